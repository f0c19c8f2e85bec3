// A view's periodic reload while it is shown: once at once, then every `everyMs` while the page is
// visible and `when()` holds (a person paging or typing is not interrupted).

/**
 * @param {() => Promise<void>} reload
 * @param {number} everyMs
 * @param {() => boolean} [when]
 */
export function refresher(reload, everyMs, when = () => true) {
  let timer = 0;
  return {
    start() {
      void reload();
      clearInterval(timer);
      timer = window.setInterval(() => {
        if (!document.hidden && when()) void reload();
      }, everyMs);
    },
    stop() {
      clearInterval(timer);
      timer = 0;
    },
  };
}
