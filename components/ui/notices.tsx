import { Alert } from "@/components/ui/alert";

/** Messages after a change succeeded, announced politely. */
export function Notices({ title, notices }: { title?: string; notices: ReadonlyArray<{ tone: "success" | "warning" | "info"; text: string }> }) {
  const tone = notices.some((notice) => notice.tone === "warning") ? "warning" : "success";
  return (
    <Alert tone={tone} role="status" title={title}>
      {notices.map((notice) => (
        <p key={notice.text}>{notice.text}</p>
      ))}
    </Alert>
  );
}
