() => {
  // Gradio's ImageEditor (6.x) resets its tool to "image" whenever its value is empty: after
  // it mounts and after Clear. With no image sources that leaves no tool at all, and strokes
  // are lost until the brush is pressed (on a phone: "select the draw tool to start"). For
  // editors with the "draw-first" class, press the brush whenever no tool is highlighted.
  // It clicks Gradio's own button, so all state goes through Gradio's handler, and it does
  // nothing once a tool is on: if a later Gradio opens with the brush selected, it idles.
  const EDITORS = ".draw-first";
  const lastClick = new WeakMap();
  function selectBrush(editor) {
    const toolbar = editor.querySelector(".toolbar-wrap");
    if (!toolbar || editor.querySelector("button.highlight")) return;  // not ready, or a tool is on
    const brush = toolbar.querySelector('button[aria-label="Brush"]')
      || toolbar.querySelector("button");  // translated labels: with no sources it comes first
    const now = Date.now();
    if (!brush || brush.disabled || now - (lastClick.get(editor) || 0) < 300) return;
    lastClick.set(editor, now);
    brush.click();
  }
  let queued = false;
  function scan() {
    queued = false;
    document.querySelectorAll(EDITORS).forEach(selectBrush);
  }
  function schedule() {
    if (!queued) { queued = true; requestAnimationFrame(scan); }
  }
  // keeps watching: re-mounted editors (tab switches, re-renders) and Clear are handled too
  new MutationObserver(schedule).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["class"]});
  schedule();
}
