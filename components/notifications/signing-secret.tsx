import { Alert } from "@/components/ui/alert";
import { ShownOnceSecret } from "@/components/ui/shown-once-secret";

type SigningSecretProps = { id: string; secret: string; title: string; children?: React.ReactNode };

/** A webhook endpoint's signing secret just made (or rolled), shown this once (see ShownOnceSecret). */
export function SigningSecret({ id, secret, title, children }: SigningSecretProps) {
  return (
    <Alert tone="success" role="status" title={title}>
      {children}
      <ShownOnceSecret
        id={id}
        label="Signing secret"
        hint="Copy it now: it will not be shown again. Your receiver verifies each delivery's Gitar-Signature header with it."
        value={secret}
        copiedMessage="The signing secret is copied to your clipboard."
      />
    </Alert>
  );
}
