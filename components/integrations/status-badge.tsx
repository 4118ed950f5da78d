import { Badge } from "@/components/ui/badge";
import type { BuildkiteCardData } from "@/lib/integrations/buildkite/presentation/card";

const LABELS = {
  not_connected: { tone: "neutral", text: "Not connected" },
  connected: { tone: "success", text: "Connected" },
  needs_attention: { tone: "warning", text: "Needs attention" },
} as const;

export function StatusBadge({ state }: { state: BuildkiteCardData["state"] }) {
  const { tone, text } = LABELS[state];
  return <Badge tone={tone}>{text}</Badge>;
}
