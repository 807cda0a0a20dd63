// What a learner sees on a card, measured in the page after MathJax has typeset it. Shared by the
// headless-Chromium tests (tests/test_browser.py) and the Anki desktop reviewer test (tests/anki_addon),
// so both apply exactly the same rules. Defines window.abProbe(cards): cards is a list of
// {id, root}; returns a JSON-able summary with one list of findings per rule.
(function () {
  // MathJax's copy of each formula for screen readers: clipped to nothing, never visible.
  const INVISIBLE = 'mjx-assistive-mml';
  // Blocks that scroll inside themselves by design when they are wider than the card.
  // A table whose columns hold formulas (which never break) can be wider than a phone, too.
  const SCROLLS_BY_DESIGN = '.highlight pre, mjx-container[display="true"], .ab table';
  const INLINE_MATH = 'mjx-container:not([display="true"])';

  function scrollbarWidth() {
    const probe = document.createElement('div');
    probe.style.cssText = 'position:absolute;top:0;left:0;width:100px;height:100px;overflow:scroll;visibility:hidden';
    document.body.appendChild(probe);
    const width = probe.offsetWidth - probe.clientWidth;
    probe.remove();
    return width;
  }

  function drawn(math) {
    // SVG output draws an <svg>, CommonHTML (Anki desktop) an <mjx-math>.
    return math.querySelector(':scope > svg, :scope > mjx-math') || math;
  }

  function contentWidth(el) {
    const cs = getComputedStyle(el);
    return el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  }

  function blockOf(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (!getComputedStyle(p).display.startsWith('inline')) return p;
    }
    return document.body;
  }

  function describe(el) {
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/)[0] : '';
    return el.tagName.toLowerCase() + cls + (el.getAttribute('display') === 'true' ? '[display]' : '');
  }

  function rgb(c) {
    const m = c.match(/[\d.]+/g).map(Number);
    return m.length === 4 && m[3] === 0 ? null : m;
  }
  function lum([r, g, b]) {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  }
  function background(el) {
    for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c) return c; }
    return [255, 255, 255];
  }

  function probeCard(id, root, out) {
    // Raw TeX left in the text: a formula MathJax did not typeset.
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (/\\[()\[\]]/.test(n.data) && !n.parentElement.closest('pre, code, script, style, textarea, mjx-container')) {
        out.raw.push(id + ': ' + n.data.slice(0, 60));
      }
    }
    for (const e of root.querySelectorAll('mjx-merror, [data-mjx-error]')) {
      out.errors.push(id + ': ' + (e.getAttribute('data-mjx-error') || e.textContent));
    }
    const maths = [...root.querySelectorAll('mjx-container')];
    out.typeset += maths.length;
    out.inline += maths.filter(m => m.matches(INLINE_MATH)).length;

    // Inline math sits on the text line: the formula's bottom is at or below the baseline of the
    // text around it (an empty inline-block's bottom edge is that baseline).
    const tooWide = [];
    for (const math of root.querySelectorAll(INLINE_MATH)) {
      const mark = document.createElement('span');
      mark.style.cssText = 'display:inline-block;width:0;height:0';
      math.before(mark);
      const baseline = mark.getBoundingClientRect().bottom;
      mark.remove();
      const box = drawn(math).getBoundingClientRect();
      if (box.bottom < baseline - 1) out.lifted.push(`${id}: ${(baseline - box.bottom).toFixed(1)}px above the line`);
      if (box.width > contentWidth(blockOf(math)) + 1) {
        tooWide.push(math);
        out.wideInline.push(`${id}: ${box.width.toFixed(0)}px`);
      }
    }

    // Nothing scrolls or sticks out except what scrolls by design: a code block, a display formula,
    // or the text block around an inline formula that is wider than any line of it.
    for (const el of [root, ...root.querySelectorAll('*')]) {
      // Inside a formula, MathJax's glyph boxes overhang each other by a pixel by design; what
      // counts is the formula as a whole, checked through the block that holds it.
      if (el.closest(INVISIBLE) || el.parentElement?.closest('mjx-container')) continue;
      const cs = getComputedStyle(el);
      // Vertically: no box scrolls, and none cuts off more than a pixel of what it holds.
      const page = el === document.body || el === document.documentElement;
      if (!page && /auto|scroll/.test(cs.overflowY) && el.scrollHeight > el.clientHeight) {
        out.overflow.push(`${id}: ${describe(el)} scrolls vertically ${el.scrollHeight}>${el.clientHeight}`);
      } else if (!page && cs.overflowY === 'hidden' && el.scrollHeight > el.clientHeight + 1 && !el.matches(SCROLLS_BY_DESIGN)) {
        out.overflow.push(`${id}: ${describe(el)} cuts off ${el.scrollHeight - el.clientHeight}px below`);
      }
      if (el.scrollWidth <= el.clientWidth) continue;
      if (el.matches(SCROLLS_BY_DESIGN)) { out.scrolling.push(`${id}: ${describe(el)}`); continue; }
      if (el !== root && tooWide.some(m => el.contains(m))) { out.scrolling.push(`${id}: ${describe(el)} (wide inline formula)`); continue; }
      out.overflow.push(`${id}: ${describe(el)} ${el.scrollWidth}>${el.clientWidth}`);
    }

    // Code: highlighted, and every token readable (WCAG AA, 4.5:1).
    for (const pre of root.querySelectorAll('.highlight pre')) {
      out.blocks++;
      if (/language-(?!text)/.test(pre.parentElement.className) && !pre.querySelector('span[class]:not(:empty)')) {
        out.plain.push(id);
      }
      for (const el of [pre, ...pre.querySelectorAll('span')]) {
        if (!el.textContent.trim()) continue;
        const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < out.minContrast) { out.minContrast = ratio; out.worst = `${el.className || 'pre'} in ${id}`; }
      }
    }

    // Clozes: the blank and the revealed text are readable too (code in a cloze keeps its colours).
    for (const el of root.querySelectorAll('.cloze')) {
      if (!el.textContent.trim() || el.querySelector('.highlight')) continue;
      out.clozes++;
      const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < out.clozeContrast) { out.clozeContrast = ratio; out.clozeWorst = id; }
    }
  }

  window.abProbe = function (cards) {
    const out = {
      ok: true, scrollbar: scrollbarWidth(), cards: cards.length, typeset: 0, inline: 0, raw: [], errors: [],
      lifted: [], wideInline: [], overflow: [], scrolling: [], blocks: 0, plain: [], minContrast: 99, worst: '',
      clozes: 0, clozeContrast: 99, clozeWorst: '',
      pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
    };
    for (const { id, root } of cards) probeCard(id, root, out);
    // What makes the page wider than the window, if anything: boxes reaching past its right edge
    // that no clipping or scrolling ancestor holds in.
    out.pageWidth = Math.max(out.pageWidth, document.documentElement.scrollWidth);
    out.outside = [];
    if (out.pageWidth > out.viewport) {
      for (const el of document.body.querySelectorAll('*')) {
        if (el.getBoundingClientRect().right <= out.viewport || el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
        let held = false;
        for (let p = el.parentElement; p && !held; p = p.parentElement) held = getComputedStyle(p).overflowX !== 'visible';
        if (!held && out.outside.length < 10) out.outside.push(describe(el) + ' ' + el.getBoundingClientRect().right.toFixed(0));
      }
    }
    return out;
  };
})();
