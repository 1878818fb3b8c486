/**
 * A person's data, out and back in: the export they download holds their
 * lists and items, a spreadsheet becomes a list, and the export itself can
 * be imported again as a copy.
 */
import { readFile } from "node:fs/promises";

import { expect, test } from "@playwright/test";

import { addItem, createList, newPerson, shot } from "./helpers";

test("a person downloads their data, imports a spreadsheet, and imports the export back", async ({ browser }, info) => {
  const owner = await newPerson(browser, "Dana");
  const { page } = owner;
  const listUrl = await createList(page, "Camping trip");
  await addItem(page, "Head torch", "24.90");
  await addItem(page, "Sleeping bag", "89");

  // --- the export: a file with the list and its items
  await page.getByRole("link", { name: "Account settings" }).click();
  await expect(page.getByRole("heading", { name: "Your data" })).toBeVisible();
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download my data" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.json$/);
  await expect(page.getByText(`Saved as ${download.suggestedFilename()}`)).toBeVisible();
  const exportPath = info.outputPath("export.json");
  await download.saveAs(exportPath);
  const exported = JSON.parse(await readFile(exportPath, "utf8")) as {
    format: string;
    account: { email: string };
    wishlists: { title: string; items: { title: string; price: string | null }[] }[];
  };
  expect(exported.format).toBe("wishlist-platform-export");
  expect(exported.account.email).toBe(owner.email);
  const camping = exported.wishlists.find((w) => w.title === "Camping trip");
  expect(camping?.items.map((i) => i.title).sort()).toEqual(["Head torch", "Sleeping bag"]);
  await shot(page, info, "settings-data");

  // --- a spreadsheet with a quoted comma becomes a new list
  await page.goto("/wishlists");
  await page.getByRole("link", { name: "Import", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Import lists" })).toBeVisible();
  const csv = [
    "title,url,price,quantity,notes",
    '"Tent, 2-person",,189.00,1,"Green, if they have it"',
    "Camping stove,,45.50,1,",
    "Tin mugs,,6,4,One each",
  ].join("\r\n");
  await page.getByLabel("File (.json or .csv)").setInputFiles({ name: "Gear for the lake.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await expect(page.getByTestId("import-preview")).toContainText("3 rows");
  await expect(page.getByTestId("import-preview")).toContainText("“Tent, 2-person”");
  await expect(page.getByLabel("Title of the new list")).toHaveValue("Gear for the lake");
  // The file has prices but says nothing of their currency: the screen asks.
  await page.getByLabel("Currency of the prices").selectOption("GBP");
  await shot(page, info, "import-preview");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.waitForURL(/\/wishlists\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: "Gear for the lake" })).toBeVisible();
  await expect(page.getByTestId("item")).toHaveCount(3);
  const tent = page.getByTestId("item").filter({ hasText: "Tent, 2-person" });
  await expect(tent).toBeVisible();
  await expect(tent).toContainText("Green, if they have it");
  await expect(tent).toContainText("£189.00");
  await expect(page.getByTestId("item").filter({ hasText: "Tin mugs" })).toBeVisible();

  // --- a bad row is named, and nothing is created
  await page.goto("/wishlists/import");
  await page
    .getByLabel("File (.json or .csv)")
    .setInputFiles({ name: "broken.csv", mimeType: "text/csv", buffer: Buffer.from("title,price\nLamp,12\nRug,not a price\n") });
  await page.getByRole("button", { name: "Import", exact: true }).click();
  const problem = page.getByRole("alert").filter({ hasText: /row 3/i });
  await expect(problem).toContainText(/price/i);
  await expect(page).toHaveURL(/\/wishlists\/import$/);

  // --- the export, imported again, is a copy of the list
  await page.getByLabel("File (.json or .csv)").setInputFiles(exportPath);
  await expect(page.getByTestId("import-preview")).toContainText("1 list with 2 items in all");
  await expect(page.getByLabel("Title of the new list")).toHaveCount(0);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.waitForURL(/\/wishlists\/[0-9a-f-]{36}$/);
  expect(page.url()).not.toBe(listUrl);
  await expect(page.getByRole("heading", { level: 1, name: "Camping trip" })).toBeVisible();
  await expect(page.getByTestId("item").filter({ hasText: "Head torch" })).toBeVisible();
  await expect(page.getByTestId("item").filter({ hasText: "Sleeping bag" })).toBeVisible();

  await page.goto("/wishlists");
  await expect(page.getByRole("link", { name: /Camping trip/ })).toHaveCount(2);
  await expect(page.getByRole("link", { name: /Gear for the lake/ })).toHaveCount(1);
});
