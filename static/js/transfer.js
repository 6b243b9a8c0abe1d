// The ticket page's transfer form: choosing a department narrows "Transfer to agent" to the agents
// who may take the ticket there (the server answers with the <option>s). Without this file the
// form offers every agent and the server refuses a pair that does not fit, keeping what was typed.
(() => {
  "use strict";

  document.addEventListener("change", async (event) => {
    const department = event.target;
    const form = department.form;
    if (!form || !form.dataset.agentOptionsUrl || department.name !== "transfer-department") return;
    const agent = form.elements.namedItem("transfer-agent");
    if (!agent) return;
    const url = new URL(form.dataset.agentOptionsUrl, window.location.href);
    url.searchParams.set("department", department.value);
    const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok || department.value !== url.searchParams.get("department")) return;
    const kept = agent.value;
    agent.innerHTML = await response.text();
    // Keep the agent already chosen when the new department still offers them.
    agent.value = Array.from(agent.options).some((option) => option.value === kept) ? kept : "";
  });
})();
