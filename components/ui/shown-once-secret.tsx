"use client";

import { useEffect, useState } from "react";
import { TextField } from "@/components/ui/text-field";

type ShownOnceSecretProps = {
  id: string;
  label: string;
  hint: string;
  value: string;
  /** Read to screen readers once it is copied, e.g. "The API key is copied to your clipboard." */
  copiedMessage: string;
};

/**
 * A credential shown this once (a new API key, a webhook signing secret): a read-only field to copy it from and a
 * Copy button. It lives only in the props that came with the action's response: a reload, or leaving the page, and it
 * is gone. The admin's next step is copying it, so it arrives focused and selected (Ctrl+C, or Tab then Copy).
 */
export function ShownOnceSecret({ id, label, hint, value, copiedMessage }: ShownOnceSecretProps) {
  // Which value was copied or failed to: a newer one starts afresh without remounting anything.
  const [copied, setCopied] = useState<string | null>(null);
  const [copyFailed, setCopyFailed] = useState<string | null>(null);

  useEffect(() => {
    const field = document.getElementById(id);
    if (field instanceof HTMLInputElement) {
      field.focus();
      field.select();
    }
  }, [id, value]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(value);
      setCopyFailed(null);
    } catch {
      // No clipboard access (an insecure origin, or the browser said no): leave it selected for Ctrl+C.
      const field = document.getElementById(id);
      if (field instanceof HTMLInputElement) field.select();
      setCopyFailed(value);
    }
  }

  const isCopied = copied === value;
  return (
    <>
      <div className="api-key-reveal">
        <TextField
          id={id}
          label={label}
          hint={hint}
          value={value}
          readOnly
          mono
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="off"
          data-1p-ignore
          data-lpignore="true"
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" className="button button--secondary api-key-reveal__copy" onClick={copy} aria-describedby={`${id}-hint`}>
          {isCopied ? "Copied" : "Copy"}
        </button>
      </div>
      {copyFailed === value ? <p>Your browser did not let us copy it: it is selected, press Ctrl+C (⌘C on a Mac).</p> : null}
      <p className="visually-hidden" role="status">
        {isCopied ? copiedMessage : ""}
      </p>
    </>
  );
}
