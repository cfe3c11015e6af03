// The front end of semantic_inpaint.photo.MaskPainter (an anywidget ES module).
//
// The hole lives in an off-screen canvas at the photo's own size: opaque white where the hole
// is, transparent elsewhere. Strokes and rectangles are drawn into it in photo pixels (pointer
// positions are scaled from the displayed size), shown over the photo in translucent red, and
// sent to Python as a PNG data URL in the `hole` trait when a stroke ends.

function button(label, title, onClick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.title = title;
  b.style.marginRight = "4px";
  b.addEventListener("click", onClick);
  return b;
}

function render({ model, el }) {
  const width = model.get("width");
  const height = model.get("height");

  const hole = document.createElement("canvas");
  hole.width = width;
  hole.height = height;
  const holeCtx = hole.getContext("2d");

  const stage = document.createElement("div");
  stage.style.position = "relative";
  stage.style.display = "inline-block";
  stage.style.maxWidth = "100%";
  stage.style.lineHeight = "0";
  const photo = document.createElement("img");
  photo.src = model.get("photo");
  photo.style.width = `${Math.min(width, model.get("display_width"))}px`;
  photo.style.maxWidth = "100%";
  photo.draggable = false;
  const overlay = document.createElement("canvas");
  overlay.width = width;
  overlay.height = height;
  overlay.className = "semantic-inpaint-overlay";
  Object.assign(overlay.style, { position: "absolute", left: "0", top: "0", width: "100%", height: "100%", cursor: "crosshair", touchAction: "none" });
  const overlayCtx = overlay.getContext("2d");
  stage.append(photo, overlay);

  let preview = null; // the rectangle being dragged, in photo pixels
  function redraw() {
    overlayCtx.clearRect(0, 0, width, height);
    overlayCtx.globalAlpha = 0.5;
    overlayCtx.drawImage(hole, 0, 0);
    overlayCtx.globalCompositeOperation = "source-in"; // tint what was drawn: the hole
    overlayCtx.fillStyle = "#ff0000";
    overlayCtx.fillRect(0, 0, width, height);
    overlayCtx.globalCompositeOperation = "source-over";
    overlayCtx.globalAlpha = 1;
    if (preview) {
      overlayCtx.strokeStyle = "#ff0000";
      overlayCtx.lineWidth = Math.max(1, width / 256);
      overlayCtx.strokeRect(preview.x, preview.y, preview.w, preview.h);
    }
  }

  let sent = null; // the last hole this view sent or loaded
  function send() {
    sent = hole.toDataURL("image/png");
    model.set("hole", sent);
    model.save_changes();
  }
  function load() {
    // A hole set from Python (or a cleared one) replaces the drawing.
    const url = model.get("hole");
    if (url === sent) return;
    sent = url;
    holeCtx.clearRect(0, 0, width, height);
    if (!url) return redraw();
    const img = new Image();
    img.onload = () => {
      holeCtx.clearRect(0, 0, width, height);
      holeCtx.drawImage(img, 0, 0);
      redraw();
    };
    img.src = url;
  }

  function at(event) {
    const box = overlay.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * width) / box.width, y: ((event.clientY - box.top) * height) / box.height };
  }

  let start = null;
  let last = null;
  function stroke(a, b) {
    holeCtx.globalCompositeOperation = model.get("tool") === "eraser" ? "destination-out" : "source-over";
    holeCtx.strokeStyle = holeCtx.fillStyle = "#ffffff";
    holeCtx.lineWidth = model.get("brush");
    holeCtx.lineCap = "round";
    holeCtx.beginPath();
    holeCtx.moveTo(a.x, a.y);
    holeCtx.lineTo(b.x, b.y);
    holeCtx.stroke();
    holeCtx.globalCompositeOperation = "source-over";
  }
  function box(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y) };
  }
  overlay.addEventListener("pointerdown", (event) => {
    overlay.setPointerCapture(event.pointerId);
    start = last = at(event);
    if (model.get("tool") !== "rectangle") stroke(start, start);
    redraw();
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!start) return;
    const p = at(event);
    if (model.get("tool") === "rectangle") preview = box(start, p);
    else stroke(last, p);
    last = p;
    redraw();
  });
  function end(event) {
    if (!start) return;
    if (model.get("tool") === "rectangle") {
      // Whole pixels: the corners rounded to the nearest pixel edge.
      const a = at(event);
      const [x0, x1] = [Math.round(Math.min(start.x, a.x)), Math.round(Math.max(start.x, a.x))];
      const [y0, y1] = [Math.round(Math.min(start.y, a.y)), Math.round(Math.max(start.y, a.y))];
      holeCtx.fillStyle = "#ffffff";
      holeCtx.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
    start = last = preview = null;
    redraw();
    send();
  }
  overlay.addEventListener("pointerup", end);
  overlay.addEventListener("pointercancel", end);

  const tools = document.createElement("div");
  tools.style.marginBottom = "4px";
  const choices = { brush: "paint the hole", eraser: "erase it", rectangle: "drag a rectangle of hole" };
  const buttons = Object.entries(choices).map(([tool, title]) =>
    button(tool, title, () => {
      model.set("tool", tool);
      model.save_changes();
    }),
  );
  const size = document.createElement("input");
  Object.assign(size, { type: "range", min: "1", max: String(Math.max(8, Math.round(Math.max(width, height) / 4))), title: "brush size (photo pixels)" });
  size.value = String(model.get("brush"));
  size.addEventListener("input", () => {
    model.set("brush", Number(size.value));
    model.save_changes();
  });
  const clear = button("clear", "remove the whole hole", () => {
    holeCtx.clearRect(0, 0, width, height);
    redraw();
    send();
  });
  function showTool() {
    buttons.forEach((b) => (b.style.fontWeight = b.textContent === model.get("tool") ? "bold" : "normal"));
    size.value = String(model.get("brush"));
  }
  tools.append(...buttons, size, clear);

  model.on("change:hole", load);
  model.on("change:tool", showTool);
  model.on("change:brush", showTool);
  showTool();
  el.append(tools, stage);
  load();
  return () => {
    model.off("change:hole", load);
    model.off("change:tool", showTool);
    model.off("change:brush", showTool);
  };
}

export default { render };
