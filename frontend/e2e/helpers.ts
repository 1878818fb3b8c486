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
