import { REQUIRED_SCOPES, newTokenUrl } from "@/lib/buildkite/scopes";
import { ScopeChecklist } from "./scope-checklist";

export function SetupGuide() {
  return (
    <div className="stack stack--tight">
      <div>
        <h3 className="section-title">Before you connect</h3>
        <ol className="steps">
          <li>
            <a href={newTokenUrl()} target="_blank" rel="noopener noreferrer">
              Create a token with these scopes
            </a>{" "}
            in Buildkite (opens in a new tab with the description and all nine scopes ticked).
          </li>
          <li>Copy the token when Buildkite shows it: it is shown only once.</li>
          <li>Paste it below and select Connect Buildkite. We check it with Buildkite before saving anything.</li>
        </ol>
      </div>
      <p className="callout">
        <strong>Use a service account.</strong> Create the token as a dedicated Buildkite user (for example{" "}
        <code>buildkite-integration@yourcompany.com</code>) so the integration keeps working when people leave and its
        actions are easy to tell apart in Buildkite’s audit log.
      </p>
      <div>
        <h3 className="section-title">Required scopes</h3>
        <ScopeChecklist scopes={REQUIRED_SCOPES} label="Required scopes and what they are used for" />
      </div>
    </div>
  );
}
