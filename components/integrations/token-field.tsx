"use client";

import { useState } from "react";
import { TextField } from "@/components/ui/text-field";

type TokenFieldProps = {
  id: string;
  label: string;
  error?: string;
  /** Ids of messages about the field outside it (the form's alert). */
  describedBy: string[];
  autoFocus?: boolean;
};

/**
 * Where an admin pastes a Buildkite API token: hidden like a password, never autocompleted, corrected or offered to
 * password managers (it is a machine credential, not the admin's password). It keeps its value across a failed
 * attempt, so the admin does not have to paste it again.
 */
export function TokenField({ id, label, error, describedBy, autoFocus }: TokenFieldProps) {
  const [token, setToken] = useState("");
  return (
    <TextField
      id={id}
      name="token"
      type="password"
      label={label}
      hint="Starts with bkua_. Stored encrypted; never shown again."
      autoComplete="off"
      spellCheck={false}
      autoCapitalize="off"
      data-1p-ignore
      data-lpignore="true"
      mono
      autoFocus={autoFocus}
      value={token}
      onChange={(event) => setToken(event.target.value)}
      error={error}
      describedBy={describedBy}
      required
    />
  );
}
