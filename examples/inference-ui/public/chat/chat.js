// The Inference UI chat page: POST /stream/chat and render the SSE answer as it streams.
// No build step and no dependencies: fetch + a ReadableStream reader + TextDecoder.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const form = $("composer");
  const prompt = $("prompt");
  const send = $("send");
  const stop = $("stop");
  const status = $("status");
  const apiKey = $("api-key");
  const history = []; // {role, parts: [{type: "text", text}]} as the contract's /chat expects
  let controller = null;

  apiKey.value = localStorage.getItem("inference-ui-api-key") || "";
  apiKey.addEventListener("change", () => localStorage.setItem("inference-ui-api-key", apiKey.value));

  function bubble(role, text) {
    const item = document.createElement("li");
    item.className = "message " + role;
    item.textContent = text;
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function setState(state, text) {
    document.body.dataset.state = state;
    status.textContent = text || "";
    const busy = state === "streaming";
    send.disabled = busy;
    stop.disabled = !busy;
  }

  // Split an SSE byte stream into parsed `data:` events, whatever the chunk boundaries.
  async function* sseEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart()).join("\n");
          if (data) yield JSON.parse(data);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  async function ask(text) {
    history.push({ role: "user", parts: [{ type: "text", text }] });
    bubble("user", text);
    const answer = bubble("assistant streaming", "");
    let reply = "";
    const started = performance.now();
    let firstPart = null;
    controller = new AbortController();
    setState("streaming", "Waiting for the first token…");
    const headers = { "Content-Type": "application/json" };
    if (apiKey.value) headers["Authorization"] = "Bearer " + apiKey.value;
    try {
      const response = await fetch("/stream/chat", {
        method: "POST",
        headers,
        body: JSON.stringify({
          messages: history,
          temperature: Number($("temperature").value),
          maxTokens: Number($("max-tokens").value),
        }),
        signal: controller.signal,
      });
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
        throw new Error(message);
      }
      for await (const event of sseEvents(response.body)) {
        if (event.type === "message-part" && event.part && event.part.type === "text") {
          if (firstPart === null) {
            firstPart = performance.now() - started;
            setState("streaming", "Streaming…");
          }
          reply += event.part.text;
          answer.textContent = reply;
          answer.scrollIntoView({ block: "end" });
        } else if (event.type === "message-end") {
          reply = event.message.parts.map((p) => p.text || "").join("");
          answer.textContent = reply;
        } else if (event.type === "error") {
          throw new Error(event.error && event.error.message || "generation failed");
        }
      }
      history.push({ role: "assistant", parts: [{ type: "text", text: reply }] });
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = "first token " + Math.round(firstPart || 0) + " ms · total " +
        Math.round(performance.now() - started) + " ms";
      answer.appendChild(meta);
      setState("done", "");
    } catch (error) {
      if (error.name === "AbortError") {
        history.push({ role: "assistant", parts: [{ type: "text", text: reply }] });
        setState("done", "Stopped.");
      } else {
        history.pop(); // the question was not answered: let it be asked again
        answer.classList.add("error");
        answer.textContent = (reply ? reply + "\n\n" : "") + "Error: " + error.message;
        setState("error", "");
      }
    } finally {
      answer.classList.remove("streaming");
      controller = null;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text || controller) return;
    prompt.value = "";
    ask(text);
  });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener("click", () => controller && controller.abort());

  // /chat/?q=... asks at once (handy for headless screenshots and links).
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) ask(initial);
})();
