/* bitopia serve: reload this page when the site is rebuilt (Server-Sent Events). */
(function () {
  "use strict";
  var script = document.currentScript;
  var build = (script && script.getAttribute("data-build")) || "";
  var endpoint = (script && script.getAttribute("data-events")) || "/__bitopia/events";
  var isErrorPage = document.documentElement.hasAttribute("data-bitopia-error");
  var source = null;

  function samePath(href, path) {
    try {
      return new URL(href, location.href).pathname === path;
    } catch (e) {
      return false;
    }
  }

  function swapStylesheets(paths, stamp) {
    var links = document.querySelectorAll('link[rel~="stylesheet"]');
    var matched = [];
    links.forEach(function (link) {
      var href = link.getAttribute("href") || "";
      if (paths.some(function (p) { return samePath(href, p); })) matched.push(link);
    });
    if (!matched.length) matched = Array.prototype.slice.call(links);
    matched.forEach(function (link) {
      var url = new URL(link.getAttribute("href"), location.href);
      url.searchParams.set("bitopia", stamp);
      var fresh = link.cloneNode();
      fresh.setAttribute("href", url.pathname + url.search);
      fresh.addEventListener("load", function () { link.remove(); });
      fresh.addEventListener("error", function () { link.remove(); });
      link.parentNode.insertBefore(fresh, link.nextSibling);
    });
  }

  function onBuild(event) {
    var msg = JSON.parse(event.data);
    if (msg.build === build && msg.ok) return; /* this page was reloaded early, from this very build */
    var previous = build;
    build = msg.build;
    if (msg.navigate && location.pathname !== msg.navigate) {
      location.href = msg.navigate;
    } else if (msg.css && msg.css.length && msg.ok && !isErrorPage && previous === msg.after) {
      swapStylesheets(msg.css, msg.build);
    } else {
      location.reload();
    }
  }

  function connect() {
    /* the page this browser shows: the server renders it first after an edit */
    source = new EventSource(endpoint + "?build=" + encodeURIComponent(build) +
                             "&page=" + encodeURIComponent(location.pathname));
    source.addEventListener("build", onBuild);
    source.onerror = function () {
      /* The server restarted or went away: reconnect with what this page shows. */
      source.close();
      setTimeout(connect, 1000);
    };
  }

  window.addEventListener("pagehide", function () { if (source) source.close(); });
  connect();
})();
