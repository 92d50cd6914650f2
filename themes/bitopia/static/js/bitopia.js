/* bitopia: optional enhancements; every page works and reads the same without this file.
   The light/dark toggle (the choice kept in localStorage; the system setting until one is made),
   a language label and a copy button on code blocks, and comments loaded only on a reader's click. */
(function () {
  "use strict";
  var root = document.documentElement;

  function dark() {
    var chosen = root.getAttribute("data-theme");
    return chosen ? chosen === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  document.querySelectorAll(".theme-toggle").forEach(function (button) {
    button.hidden = false;
    button.setAttribute("aria-pressed", String(dark()));
    button.addEventListener("click", function () {
      var next = dark() ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("bitopia-theme", next); } catch (e) { /* private mode: this page only */ }
      button.setAttribute("aria-pressed", String(next === "dark"));
    });
  });

  document.querySelectorAll(".content pre > code").forEach(function (code) {
    var pre = code.parentNode;
    var bar = document.createElement("div");
    bar.className = "code-bar";
    var match = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className);
    if (match) {
      var label = document.createElement("span");
      label.className = "code-lang";
      label.textContent = match[1];
      bar.appendChild(label);
    }
    if (navigator.clipboard) {
      var copy = document.createElement("button");
      copy.type = "button";
      copy.className = "code-copy";
      copy.textContent = "Copy";
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(code.innerText).then(function () {
          copy.textContent = "Copied";
          setTimeout(function () { copy.textContent = "Copy"; }, 2000);
        }, function () { copy.textContent = "Press Ctrl+C"; });
      });
      bar.appendChild(copy);
    }
    if (bar.firstChild) {
      pre.parentNode.insertBefore(bar, pre);
      pre.classList.add("has-bar");
    }
  });

  document.querySelectorAll("button[data-comments-src]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.disqus_config = function () {
        this.page.url = button.getAttribute("data-page-url");
        this.page.identifier = button.getAttribute("data-page-id");
      };
      var script = document.createElement("script");
      script.src = button.getAttribute("data-comments-src");
      script.setAttribute("data-timestamp", String(Date.now()));
      document.body.appendChild(script);
      button.remove();
    });
  });
})();
