// EV Charging Ledger UI: sends forms to the JSON API (behind the ingress prefix).
"use strict";
(function () {
  const base = document.body.dataset.base || "";

  // The login window opened from the sidebar panel: tell the panel, then close (where the
  // browser lets a script close it; otherwise the page stays open here as well).
  const here = new URL(location.href);
  if (here.searchParams.has("login_window")) {
    here.searchParams.delete("login_window");
    history.replaceState(null, "", here.pathname + here.search);
    if ("BroadcastChannel" in window) {
      new BroadcastChannel("ev-charging-ledger-login").postMessage("logged-in");
      window.close();
    }
  }

  function value(input) {
    const raw = input.value.trim();
    if (raw === "") return undefined;
    if (input.dataset.type === "int") return parseInt(raw, 10);
    if (input.dataset.type === "datetime") return new Date(raw).toISOString();
    if (input.dataset.type === "kwh") {
      // kWh as people type it (3,5 or 3.5) -> Wh as decimal text, without float rounding.
      const match = raw.replace(",", ".").match(/^(\d+)(?:\.(\d{0,3}))?$/);
      if (!match) return raw;
      return String(BigInt(match[1]) * 1000n + BigInt((match[2] || "").padEnd(3, "0")));
    }
    return raw;
  }

  // A login session's token against cross-site requests (absent behind ingress).
  const csrf = document.querySelector("meta[name=csrf-token]");

  async function send(url, method, body, headers) {
    headers = Object.assign({}, headers || {});
    if (csrf) headers["X-CSRF-Token"] = csrf.content;
    const response = await fetch(base + url, { method, body, headers, credentials: "same-origin" });
    const text = await response.text();
    let data = null;
    try { data = JSON.parse(text); } catch (err) { data = { error: text }; }
    if (!response.ok) throw new Error((data && data.error) || response.statusText);
    return data;
  }

  document.querySelectorAll("form.api-form").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const body = {};
      let url = form.dataset.api;
      form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (input) {
        const v = value(input);
        if (url.includes("{" + input.name + "}")) {
          url = url.replace("{" + input.name + "}", encodeURIComponent(input.value.trim()));
        } else if (input.name.startsWith("data.")) {
          // Nested values (an adjustment's data); an empty choice means none (null).
          body.data = body.data || {};
          body.data[input.name.slice(5)] = v === undefined ? null : v;
        } else if (v !== undefined) {
          body[input.name] = v;
        }
      });
      const error = form.querySelector(".error");
      try {
        await send(url, form.dataset.method || "POST", JSON.stringify(body),
                   { "Content-Type": "application/json" });
        if (form.dataset.done) window.location.href = base + form.dataset.done;
        else window.location.reload();
      } catch (err) {
        if (error) error.textContent = err.message;
      }
    });
  });

  document.querySelectorAll("form.upload-form").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const params = new URLSearchParams();
      form.querySelectorAll("select[name], input[name]:not([type=file])").forEach(function (input) {
        if (input.value.trim() !== "") params.set(input.name, input.value.trim());
      });
      const file = form.querySelector("input[type=file]").files[0];
      const error = form.querySelector(".error");
      const result = form.querySelector(".result");
      try {
        const data = await send(form.dataset.api + "?" + params.toString(), "POST", file,
                                { "Content-Type": "text/csv" });
        result.textContent = JSON.stringify(data, null, 2);
        error.textContent = "";
      } catch (err) {
        error.textContent = err.message;
      }
    });
  });

  // Bulk assignment: every unattributed session of the filter, one adjustment each, so
  // each is checked by the API and appears in its session's history.
  document.querySelectorAll("form.bulk-form").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const error = form.querySelector(".error");
      const result = form.querySelector(".result");
      const data = {
        person_id: value(form.querySelector("[name=person_id]")),
        vehicle_id: value(form.querySelector("[name=vehicle_id]")) || null,
      };
      const reason = form.querySelector("[name=reason]").value.trim();
      error.textContent = "";
      result.textContent = "";
      try {
        const ids = [];
        let cursor = null;
        do {
          const query = new URLSearchParams(form.dataset.query);
          query.set("limit", "1000");
          if (cursor) query.set("cursor", cursor);
          const page = await send(form.dataset.api + "?" + query.toString(), "GET");
          page.items.forEach(function (item) {
            if (item.person_id === null) ids.push(item.session_id);
          });
          cursor = page.next_cursor;
        } while (cursor);
        for (const id of ids) {
          await send(form.dataset.api + "/" + encodeURIComponent(id) + "/adjustments", "POST",
                     JSON.stringify({ kind: "reassign", reason: reason, data: data }),
                     { "Content-Type": "application/json" });
        }
        result.textContent = form.dataset.done.replace("{count}", String(ids.length));
      } catch (err) {
        error.textContent = err.message;
      }
    });
  });

  const verify = document.querySelector("[data-verify]");
  if (verify) {
    verify.addEventListener("click", async function () {
      const out = document.getElementById("verify-result");
      try {
        const report = await send(verify.dataset.verify, "GET");
        out.textContent = (report.ok ? verify.dataset.ok : verify.dataset.broken) + ": " +
          report.sessions_checked + " / " + report.adjustments_checked;
        out.className = report.ok ? "result ok" : "result broken";
        document.getElementById("verify-ocmf").textContent = report.ocmf_summary || "";
        const failures = document.getElementById("verify-ocmf-failures");
        failures.replaceChildren();
        (report.ocmf_failures || []).forEach(function (failure) {
          const item = document.createElement("li");
          item.textContent = failure.reason + " (" + failure.detail + ")";
          item.dataset.session = failure.session_id;
          failures.appendChild(item);
        });
      } catch (err) {
        out.textContent = err.message;
      }
    });
  }
})();
