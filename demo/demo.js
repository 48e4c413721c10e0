// The demo page's script: each button sends one cross-origin request with
// fetch() and writes down what the browser let the script see.
//
// Each result element gets data-outcome="allowed" (the script could read the
// answer), "status-NNN" (the script could read a non-2xx answer) or "blocked"
// (the fetch() promise rejected: the browser withheld the answer), and the
// class "as-expected" or "unexpected" by comparing it with data-expected: a
// blocked request can be exactly what the demo means to show.
"use strict";

(function () {
  const API = window.DEMO_API || "http://localhost:8081";
  const LEGACY = window.DEMO_LEGACY || "http://localhost:8082";

  function basic(user, password) {
    return "Basic " + btoa(user + ":" + password);
  }

  function jsonPost(password) {
    return fetch(API + "/private/echo", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Authorization": basic("demo", password),
      },
      body: JSON.stringify({ hello: "world" }),
    });
  }

  // The browser running this page. Each engine words its console messages
  // its own way; the texts below are the ones the browser tests measured
  // (integration/testdata/console-messages.md). Chromium is told apart by
  // navigator.userAgentData, which only it has, or its user agent (Edge,
  // Opera and the like say "Chrome/" too); Firefox by "Firefox/"; every
  // other browser on WebKit (Safari, and every browser on iOS) says
  // "AppleWebKit/" without "Chrome/".
  const ENGINE = (function () {
    const ua = navigator.userAgent;
    if (navigator.userAgentData || ua.includes("Chrome/")) {
      return {
        name: "chromium",
        console: "Chromium's DevTools console (Chrome, Edge) says:",
        tools: "Open DevTools (F12)",
        fetchError: "TypeError: Failed to fetch",
        headerRefused: (url, origin, header) => "Access to fetch at '" + url + "' from origin '" + origin +
          "' has been blocked by CORS policy: Request header field " + header.toLowerCase() +
          " is not allowed by Access-Control-Allow-Headers in preflight response.",
      };
    }
    if (ua.includes("Firefox/")) {
      return {
        name: "firefox",
        console: "Firefox's console says:",
        tools: "Open DevTools (F12)",
        fetchError: "TypeError: NetworkError when attempting to fetch resource.",
        headerRefused: (url, origin, header) => "Cross-Origin Request Blocked: The Same Origin Policy " +
          "disallows reading the remote resource at " + url + ". (Reason: header \u2018" +
          header.toLowerCase() + "\u2019 is not allowed according to header " +
          "\u2018Access-Control-Allow-Headers\u2019 from CORS preflight response).",
      };
    }
    if (ua.includes("AppleWebKit/")) {
      return {
        name: "webkit",
        console: "Safari's console says:",
        tools: "Open Web Inspector (Develop \u2192 Show Web Inspector; the Develop menu is turned on in " +
          "Safari's settings, Advanced)",
        fetchError: "TypeError: Load failed",
        headerRefused: (url, origin, header) => "Request header field " + header +
          " is not allowed by Access-Control-Allow-Headers.",
      };
    }
    return null; // an engine the demo has no measured texts for
  })();

  const HOW_TO_SEE_WHY =
    "The script gets no details: browsers hide the reason from scripts on purpose. " +
    (ENGINE ? ENGINE.tools : "Open the browser's developer tools") +
    ": the Console says why the browser blocked it, and the Network tab " +
    "shows the request and its headers.";

  // One entry per button. run() sends the request(s) and returns the Response
  // the script ends up with. allowed/blocked/status list, in plain words, what
  // went over the wire in each case.
  const demos = {
    "simple-get": {
      run: () => fetch(API + "/hello"),
      allowed: [
        "No preflight: a GET without custom headers is sent at once.",
        "The answer carried Access-Control-Allow-Origin: " + location.origin +
          " (this page's origin, exactly), so the browser handed it to the script.",
        "x-request-id is readable only because the policy lists it under \"expose\"; " +
          "other headers, such as Server, stay hidden.",
      ],
      blocked: ["The answer did not carry this page's origin in Access-Control-Allow-Origin."],
    },

    "post-auth": {
      run: () => jsonPost("cors-demo"),
      allowed: [
        "Preflight first: OPTIONS /private/echo with Access-Control-Request-Method: POST and " +
          "Access-Control-Request-Headers: authorization,content-type.",
        "The cors directive answered it (204) before basic_auth ran: a preflight never carries a password. " +
          "It allowed both headers because the policy's \"headers\" line lists them.",
        "Then the browser sent the real POST with the password; basic_auth accepted it and " +
          "the answer carried Access-Control-Allow-Origin, so the script read the body.",
      ],
      blocked: ["The preflight or the answer lacked the CORS headers."],
    },

    "post-auth-wrong": {
      run: () => jsonPost("wrong"),
      allowed: ["The API accepted a wrong password: that is not what basic_auth should do."],
      status: [
        "The preflight passed as before (it never carries a password).",
        "basic_auth refused the POST with 401. The cors directive had already put " +
          "Access-Control-Allow-Origin on the answer, error or not, so the script can read " +
          "the status and tell the user \"wrong password\" instead of getting a CORS error.",
      ],
      blocked: ["The 401 answer lacked Access-Control-Allow-Origin, so the script saw a CORS error instead of the status."],
    },

    "credentialed": {
      run: async () => {
        await fetch(API + "/session/login", { method: "POST", credentials: "include" });
        return fetch(API + "/session/whoami", { credentials: "include" });
      },
      judge: (r) => (r.body.includes("demo_session=chocolate-chip") ? "allowed" : "no-cookie"),
      allowed: [
        "credentials: \"include\" makes the browser send and store cookies, and accept the answer only " +
          "if it carries Access-Control-Allow-Credentials: true and the exact origin (never \"*\"). " +
          "The policy's \"credentials\" line does exactly that.",
        "POST /session/login set the cookie demo_session; GET /session/whoami received it back (see the body).",
        "The script itself cannot read the cookie: it is HttpOnly, and Set-Cookie is never readable by scripts.",
      ],
      "no-cookie": ["The answers were readable, but the API did not receive the cookie demo_session."],
      blocked: ["An answer lacked Access-Control-Allow-Credentials: true or the exact origin."],
    },

    "bad-header": {
      run: () => fetch(API + "/hello", { headers: { "X-Debug-Mode": "on" } }),
      allowed: ["The policy let X-Debug-Mode through, although its \"headers\" line does not list it."],
      blocked: [
        "A custom header makes the browser ask first: OPTIONS /hello with " +
          "Access-Control-Request-Headers: x-debug-mode.",
        "X-Debug-Mode is not in the policy's \"headers\" line. The origin is allowed, so the cors " +
          "directive answered the preflight with 200 and Access-Control-Allow-Origin, but with no " +
          "Access-Control-Allow-Headers for x-debug-mode, and the text \u201cCORS preflight rejected: " +
          "header \"x-debug-mode\" is not allowed\u201d (DevTools, Network, the OPTIONS row, Response). " +
          "Caddy's log has the same reason.",
        "The browser never sent the GET itself.",
      ],
      // The page cannot read the console; this is what this engine prints
      // there for this request (the browser test checks it word for word).
      console: () => ENGINE && ENGINE.headerRefused(API + "/hello", location.origin, "X-Debug-Mode"),
    },

    "uncovered": {
      run: () => fetch(API + "/internal/stats"),
      allowed: ["/internal/stats answered with CORS headers, although it is outside the policy's matcher."],
      blocked: [
        "No preflight (a simple GET): the request reached the API, which answered 200 " +
          "(DevTools, Network).",
        "/internal/* is outside the cors matcher @cors_covered, so the answer carried no " +
          "Access-Control-Allow-Origin, and the browser withheld it from the script.",
      ],
    },

    "proxy": {
      run: () => fetch(API + "/legacy/hello", { credentials: "include" }),
      allowed: [
        "The API proxied the request to the old backend, which answered with its own " +
          "Access-Control-Allow-Origin: *.",
        "A browser refuses \"*\" for a request with credentials, and refuses two values. The cors " +
          "directive replaced the backend's header with one exact Access-Control-Allow-Origin: " +
          location.origin + " plus Access-Control-Allow-Credentials: true, so the script read the body.",
      ],
      blocked: ["The answer still carried the backend's Access-Control-Allow-Origin: * (or two values)."],
    },

    "legacy-direct": {
      run: () => fetch(LEGACY + "/hello", { credentials: "include" }),
      allowed: ["The browser accepted Access-Control-Allow-Origin: * with credentials: it should not."],
      blocked: [
        "The backend answered 200 with Access-Control-Allow-Origin: *, but this request carries " +
          "credentials, and for those a browser requires the exact origin.",
        "Compare with the button above: the same backend behind the cors directive works.",
      ],
    },
  };

  // Everything the browser lets a script see of a response.
  async function readable(res) {
    const headers = [];
    res.headers.forEach((value, name) => headers.push(name));
    return { status: res.status, headers: headers, body: await res.text() };
  }

  function render(id, outcome, headline, facts, explanation, consoleText) {
    const el = document.getElementById("result-" + id);
    const expected = el.dataset.expected;
    el.dataset.outcome = outcome;
    el.classList.toggle("as-expected", outcome === expected);
    el.classList.toggle("unexpected", outcome !== expected);
    el.replaceChildren();

    const head = document.createElement("p");
    head.className = "headline";
    head.textContent = (outcome === expected ? "\u2713 As expected. " : "\u2717 Not as expected. ") + headline;
    el.append(head);

    const dl = document.createElement("dl");
    for (const [term, value] of facts) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dl.append(dt, dd);
    }
    el.append(dl);

    const ul = document.createElement("ul");
    for (const line of explanation) {
      const li = document.createElement("li");
      li.textContent = line;
      ul.append(li);
    }
    el.append(ul);

    if (consoleText) {
      const label = document.createElement("p");
      label.className = "console-label";
      label.textContent = ENGINE.console;
      const quote = document.createElement("blockquote");
      quote.className = "console-quote";
      quote.textContent = consoleText;
      el.append(label, quote);
    }
  }

  async function run(id) {
    const demo = demos[id];
    const el = document.getElementById("result-" + id);
    el.dataset.outcome = "running";
    el.textContent = "Running…";
    let res;
    try {
      res = await demo.run();
    } catch (err) {
      render(id, "blocked", "Blocked by the browser: fetch() rejected",
        [["Script saw", String(err)]],
        demo.blocked.concat([HOW_TO_SEE_WHY]),
        demo.console && demo.console());
      return;
    }
    const r = await readable(res);
    let outcome = res.ok ? "allowed" : "status-" + r.status;
    if (res.ok && demo.judge) {
      outcome = demo.judge(r);
    }
    const headline = outcome === "allowed"
      ? "Allowed: the script read the answer"
      : outcome.startsWith("status-")
        ? "Readable error: the script read status " + r.status
        : "Readable, but not what the demo expects (" + outcome + ")";
    const explanation = demo[outcome] || demo[outcome.startsWith("status-") ? "status" : "allowed"];
    render(id, outcome, headline, [
      ["Status", String(r.status)],
      ["Body", r.body || "(empty)"],
      ["Headers the script can read", r.headers.join(", ") || "(none)"],
    ], explanation);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("page-origin").textContent = location.origin;
    if (ENGINE) {
      document.body.dataset.engine = ENGINE.name;
      document.getElementById("fetch-error").textContent = ENGINE.fetchError;
    }
    document.getElementById("api-origin").textContent = API;
    document.getElementById("legacy-origin").textContent = LEGACY;
    for (const id of Object.keys(demos)) {
      document.getElementById("btn-" + id).addEventListener("click", () => run(id));
    }
    const runAll = document.getElementById("btn-run-all");
    const summary = document.getElementById("run-all-summary");
    runAll.addEventListener("click", async () => {
      runAll.disabled = true;
      summary.className = "summary";
      summary.textContent = "Running\u2026";
      const ids = Object.keys(demos);
      for (const id of ids) {
        await run(id);
      }
      const missed = ids.filter((id) => !document.getElementById("result-" + id).classList.contains("as-expected"));
      summary.textContent = (ids.length - missed.length) + " of " + ids.length + " as expected" +
        (missed.length ? "; not as expected: " + missed.map((id) => document.querySelector("#demo-" + id + " h2").textContent).join("; ") : "");
      summary.classList.add(missed.length ? "unexpected" : "as-expected");
      runAll.disabled = false;
    });
  });
})();
