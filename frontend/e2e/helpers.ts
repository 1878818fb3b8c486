import { expect, type Browser, type Page, type TestInfo } from "@playwright/test";

export const PASSWORD = "correct horse battery";

export interface Person {
  page: Page;
  name: string;
  email: string;
}

function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** A new browser context (its own cookies: a separate person) with an account, signed in. */
export async function newPerson(browser: Browser, name: string): Promise<Person> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = unique(name.toLowerCase());
  await page.goto("/register");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "My lists" })).toBeVisible();
  return { page, name, email };
}

/** A full-page screenshot under test-results/screenshots, named by screen and viewport. */
export async function shot(page: Page, info: TestInfo, screen: string): Promise<void> {
  // Let fonts and transitions settle so the picture shows the finished screen.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: `test-results/screenshots/${screen}-${info.project.name}.png`, fullPage: true });
}

export async function openNav(page: Page, label: string): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).filter({ visible: true }).getByRole("link", { name: label }).click();
}

/**
 * Where the scenarios' outside world is (`wishlist_shared.testing.web`): a
 * shop's product page for link previews and the mailbox of every address
 * the platform emailed. Unset when the suite runs against a system of one's
 * own (`make run`); the scenarios that need it are skipped then.
 */
export const FIXTURES_URL = process.env.E2E_FIXTURES_URL ?? null;

export interface Mail {
  subject: string;
  text: string;
  links: string[];
}

/** The emails sent to `email` so far (the test sink keeps them all). */
export async function mailTo(email: string): Promise<Mail[]> {
  if (!FIXTURES_URL) throw new Error("E2E_FIXTURES_URL is not set: no mailbox to read");
  const response = await fetch(`${FIXTURES_URL}/mail?to=${encodeURIComponent(email)}`);
  if (!response.ok) throw new Error(`the mailbox answered ${response.status}`);
  return (await response.json()) as Mail[];
}

/** A new list of the person's, opened; returns its address. */
export async function createList(page: Page, title: string): Promise<string> {
  await page.getByRole("button", { name: "New list" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New list" });
  await dialog.getByLabel("Title").fill(title);
  await dialog.getByRole("button", { name: "Create list" }).click();
  await page.waitForURL(/\/wishlists\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  return page.url();
}

/** Adds an item through the "Add an item" dialog of an open list. */
export async function addItem(page: Page, title: string, price: string): Promise<void> {
  await page.getByRole("button", { name: "Add item" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add an item" });
  await dialog.getByLabel("What is it?").fill(title);
  await dialog.getByLabel("Price").fill(price);
  await dialog.getByRole("button", { name: "Add item" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("item").filter({ hasText: title })).toBeVisible();
}
