import { Alert } from "@/components/ui/alert";
import { ShownOnceSecret } from "@/components/ui/shown-once-secret";
import { formatDate } from "@/lib/format";

type NewApiKeyProps = { apiKey: string; name: string; expiresAt: string | null };

/** The key just created, shown this once (see ShownOnceSecret), with when it stops working. */
export function NewApiKey({ apiKey, name, expiresAt }: NewApiKeyProps) {
  return (
    <Alert tone="success" role="status" title={`API key “${name}” created`}>
      <p>{expiresAt ? `It works until ${formatDate(expiresAt)}.` : "It never expires: revoke it when nothing uses it any more."}</p>
      <ShownOnceSecret
        id="api-key-new"
        label="Your new API key"
        hint="Copy it now: it will not be shown again."
        value={apiKey}
        copiedMessage="The API key is copied to your clipboard."
      />
    </Alert>
  );
}
