/**
 * Adding an item from a shop's link: the page's details fill in what the
 * owner left empty and nothing they typed; a page that cannot be read only
 * says so, and the item is saved all the same.
 */
import { expect, test } from "@playwright/test";

import { FIXTURES_URL, createList, newPerson, shot } from "./helpers";

function shop(title: string, price: string, currency: string): string {
  return `${FIXTURES_URL}/product?${new URLSearchParams({ title, price, currency })}`;
}

test("a pasted link fills in the empty fields of a new item", async ({ browser }, info) => {
  test.skip(!FIXTURES_URL, "no shop to read (E2E_FIXTURES_URL)");
  const { page } = await newPerson(browser, "Iris");
  await createList(page, "Kitchen");

  // --- an empty form: everything the page says is filled in
  await page.getByRole("button", { name: "Add item" }).first().click();
  let dialog = page.getByRole("dialog", { name: "Add an item" });
  await dialog.getByLabel("Link", { exact: true }).dispatchEvent("paste");
  await dialog.getByLabel("Link", { exact: true }).fill(shop("Stovetop kettle", "39.90", "GBP"));
  await expect(dialog.getByTestId("link-preview-note")).toContainText("Filled in from the link");
  await expect(dialog.getByLabel("What is it?")).toHaveValue("Stovetop kettle");
  await expect(dialog.getByLabel("Price")).toHaveValue("39.90");
  await expect(dialog.getByLabel("Currency")).toHaveValue("GBP");
  await expect(dialog.getByLabel("Picture link")).toHaveValue(`${FIXTURES_URL}/picture.svg`);
  await shot(page, info, "item-link-preview");
  await dialog.getByRole("button", { name: "Add item" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("item").filter({ hasText: "Stovetop kettle" })).toContainText("£39.90");

  // --- what the owner typed first stays; typing the link (no paste) looks it up after a pause
  await page.getByRole("button", { name: "Add item" }).first().click();
  dialog = page.getByRole("dialog", { name: "Add an item" });
  await dialog.getByLabel("What is it?").fill("Kettle for Grandpa");
  await dialog.getByLabel("Link", { exact: true }).pressSequentially(shop("Whistling kettle", "25.00", "EUR"), { delay: 5 });
  await expect(dialog.getByTestId("link-preview-note")).toContainText("Filled in from the link: picture, price");
  await expect(dialog.getByLabel("What is it?")).toHaveValue("Kettle for Grandpa");
  await expect(dialog.getByLabel("Price")).toHaveValue("25.00");
  await dialog.getByRole("button", { name: "Add item" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("item").filter({ hasText: "Kettle for Grandpa" })).toContainText("€25.00");

  // --- a page that cannot be read: a quiet note, and saving still works
  await page.getByRole("button", { name: "Add item" }).first().click();
  dialog = page.getByRole("dialog", { name: "Add an item" });
  await dialog.getByLabel("What is it?").fill("Tea towels");
  await dialog.getByLabel("Link", { exact: true }).fill(`${FIXTURES_URL}/no-such-page`);
  await dialog.getByLabel("Link", { exact: true }).blur();
  await expect(dialog.getByTestId("link-preview-note")).toContainText("Couldn’t read details from that page");
  await dialog.getByRole("button", { name: "Add item" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("item").filter({ hasText: "Tea towels" })).toBeVisible();
});
