// One script, two ways of using the page: with the pointer, or with the keyboard alone. In a
// keyboard pass every control is reached with Tab (a control Tab cannot reach fails the test),
// pressed with Enter, typed into, and chosen from with the arrow keys.
import assert from "node:assert/strict";

/** Whether `locator`'s element has the focus, looking into shadow roots (the widget's). */
function isFocused(locator) {
  return locator.evaluate((el) => {
    let active = document.activeElement;
    while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
    return active === el;
  });
}

export function driverFor(page, { keyboard }) {
  async function tabTo(locator) {
    await locator.waitFor();
    for (let i = 0; i < 400; i++) {
      if (await isFocused(locator)) return;
      await page.keyboard.press("Tab");
    }
    throw new Error(`Tab never reached ${locator}`);
  }

  const ui = {
    /** Activates a button or link. */
    async press(locator) {
      if (!keyboard) return locator.click();
      await tabTo(locator);
      await page.keyboard.press("Enter");
    },

    /** Replaces the text of a field. */
    async fill(locator, text) {
      if (!keyboard) return locator.fill(text);
      await tabTo(locator);
      await page.keyboard.press("Control+A");
      await page.keyboard.press("Backspace");
      await page.keyboard.insertText(text);
    },

    /** Chooses the option whose value is `choice`, or whose label matches it (a RegExp). */
    async select(locator, choice) {
      await locator.waitFor();
      const source = choice instanceof RegExp ? { pattern: choice.source, flags: choice.flags } : { value: choice };
      const [from, to, value] = await locator.evaluate((el, c) => {
        const options = [...el.options];
        const index = options.findIndex((o) => (c.value !== undefined ? o.value === c.value : new RegExp(c.pattern, c.flags).test(o.text)));
        return [el.selectedIndex, index, index >= 0 ? options[index].value : null];
      }, source);
      assert.ok(to >= 0, `no option ${choice} in ${locator}`);
      if (!keyboard) return locator.selectOption(value);
      await tabTo(locator);
      const key = to > from ? "ArrowDown" : "ArrowUp";
      for (let i = 0; i < Math.abs(to - from); i++) await page.keyboard.press(key);
      assert.equal(await locator.inputValue(), value, `the arrow keys chose ${choice}`);
    },

    /** Sends a chat message: typed, then Enter. */
    async say(widget, text) {
      const input = widget.getByLabel("Your message");
      await ui.fill(input, text);
      if (!keyboard) await input.focus();
      await page.keyboard.press("Enter");
    },

    async heading(text) {
      await page.getByRole("heading", { level: 1, name: text }).waitFor();
    },

    async nav(name) {
      await ui.press(page.locator("header nav").getByRole("link", { name, exact: true }));
      if (name === "Inbox") await page.getByRole("list", { name: "Conversations" }).waitFor();
      else await ui.heading(name);
    },

    /** Nothing sticks out sideways: the page never scrolls horizontally. */
    async fitsTheScreen() {
      const [wide, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(wide <= width + 1, `${page.url()} is ${wide} px wide on a ${width} px screen`);
    },

    /** Every visible drop-down on the screen shows its whole choice (none cut to "Rep"). */
    async uncut() {
      const cut = await page.evaluate(() => {
        const measure = document.createElement("canvas").getContext("2d");
        return [...document.querySelectorAll("main select")].filter((el) => el.offsetParent !== null).flatMap((el) => {
          measure.font = getComputedStyle(el).font;
          const text = el.options[el.selectedIndex]?.text || "";
          // Room for the arrow and padding besides the text.
          return measure.measureText(text).width + 24 > el.clientWidth ? [`${text} (${el.clientWidth} px)`] : [];
        });
      });
      assert.deepEqual(cut, [], "drop-downs cut short");
    },
  };
  return ui;
}
