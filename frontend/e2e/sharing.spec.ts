/**
 * The product's promise, in a real browser: an owner shares a list, a friend
 * sees it live and reserves a gift, the owner never learns of it, and a
 * stranger never sees the list at all.
 */
import { expect, test } from "@playwright/test";

import { PASSWORD, newPerson, openNav, shot } from "./helpers";

test("a shared list reaches the friend live and the owner never sees reservations", async ({ browser }, info) => {
  // --- the login screen, as a visitor sees it
  const visitor = await browser.newPage();
  await visitor.goto("/login");
  await expect(visitor.getByRole("heading", { name: "Log in" })).toBeVisible();
  await shot(visitor, info, "login");

  const owner = await newPerson(browser, "Olivia");
  const friend = await newPerson(browser, "Felix");
  const stranger = await newPerson(browser, "Sam");

  // --- the owner makes a list with two items
  await owner.page.getByRole("button", { name: "New list" }).first().click();
  const listDialog = owner.page.getByRole("dialog", { name: "New list" });
  await listDialog.getByLabel("Title").fill("Olivia’s birthday");
  await listDialog.getByLabel("Description").fill("Turning 30! Anything cosy or coffee-related.");
  await listDialog.getByLabel("Occasion date").fill("2027-03-14");
  await listDialog.getByRole("button", { name: "Create list" }).click();
  await owner.page.waitForURL(/\/wishlists\/[0-9a-f-]{36}$/);
  await expect(owner.page.getByRole("heading", { level: 1, name: "Olivia’s birthday" })).toBeVisible();
  const listUrl = owner.page.url();

  async function addItem(title: string, price: string, quantity: string, priority: string) {
    await owner.page.getByRole("button", { name: "Add item" }).first().click();
    const dialog = owner.page.getByRole("dialog", { name: "Add an item" });
    await dialog.getByLabel("What is it?").fill(title);
    await dialog.getByLabel("Price").fill(price);
    await dialog.getByLabel("How many").fill(quantity);
    await dialog.getByLabel("Priority").selectOption({ label: priority });
    await dialog.getByRole("button", { name: "Add item" }).click();
    await expect(dialog).toBeHidden();
    await expect(owner.page.getByTestId("item").filter({ hasText: title })).toBeVisible();
  }
  await addItem("Espresso machine", "249.00", "1", "Must have");
  await addItem("Wool socks", "12.50", "3", "Nice to have");

  // --- before sharing, the friend has nothing
  await openNav(friend.page, "Shared with me");
  await expect(friend.page.getByText("Nothing shared with you yet")).toBeVisible();

  // --- the owner shares by email; the friend sees it arrive without reloading
  await owner.page.getByLabel("Share with (email)").fill(friend.email);
  await owner.page.getByRole("button", { name: "Share", exact: true }).click();
  await expect(owner.page.getByTestId("share").filter({ hasText: "Felix" })).toContainText("Active");
  // Someone without an account yet: the share waits for them.
  const later = `later-${Date.now().toString(36)}@example.com`;
  await owner.page.getByLabel("Share with (email)").fill(later);
  await owner.page.getByRole("button", { name: "Share", exact: true }).click();
  await expect(owner.page.getByTestId("share").filter({ hasText: later })).toContainText("Pending");

  await expect(friend.page.getByRole("link", { name: /Olivia’s birthday/ })).toBeVisible();
  await expect(friend.page.getByRole("button", { name: "Notifications, 1 unread" })).toBeVisible();
  await friend.page.getByRole("button", { name: /^Notifications/ }).click();
  await expect(friend.page.getByTestId("notification").first()).toContainText("Olivia shared “Olivia’s birthday” with you");
  await shot(friend.page, info, "notifications");
  await friend.page.keyboard.press("Escape");

  // --- the friend reserves the espresso machine
  await friend.page.getByRole("link", { name: /Olivia’s birthday/ }).click();
  const espresso = friend.page.getByTestId("item").filter({ hasText: "Espresso machine" });
  await espresso.getByRole("button", { name: "Reserve Espresso machine" }).click();
  await expect(espresso.getByTestId("availability")).toContainText("Reserved by you");
  const socks = friend.page.getByTestId("item").filter({ hasText: "Wool socks" });
  await socks.getByLabel("How many of Wool socks").fill("2");
  await socks.getByRole("button", { name: "Reserve Wool socks" }).click();
  await expect(socks.getByTestId("availability")).toContainText("1 of 3 left");
  await shot(friend.page, info, "viewer-list");

  // --- the owner, even after a reload, sees no trace of it
  await owner.page.reload();
  await expect(owner.page.getByRole("heading", { name: "Olivia’s birthday" })).toBeVisible();
  await expect(owner.page.getByTestId("item")).toHaveCount(2);
  const ownerText = (await owner.page.locator("main").innerText()).toLowerCase();
  // The sharing panel may explain that friends reserve gifts; nothing may say that any were.
  for (const spoiler of [/reserved/, /\bleft\b/, /already/, /bought/, /felix.*(reserv|bought)/]) {
    expect(ownerText).not.toMatch(spoiler);
  }
  await expect(owner.page.getByTestId("availability")).toHaveCount(0);
  await shot(owner.page, info, "owner-list");

  // --- a new item reaches the friend's open page live
  await addItem("Cookbook", "35", "1", "Would like");
  await expect(friend.page.getByTestId("item").filter({ hasText: "Cookbook" })).toBeVisible();
  await expect(friend.page.getByRole("button", { name: "Notifications, 2 unread" })).toBeVisible();

  // --- the owner's lists
  await openNav(owner.page, "My lists");
  await expect(owner.page.getByRole("link", { name: /Olivia’s birthday/ })).toBeVisible();
  await shot(owner.page, info, "my-lists");

  // --- the stranger never sees the list
  await stranger.page.goto(listUrl);
  await expect(stranger.page.getByRole("heading", { name: "List not found" })).toBeVisible();
  await openNav(stranger.page, "Shared with me");
  await expect(stranger.page.getByText("Nothing shared with you yet")).toBeVisible();
  await expect(stranger.page.getByRole("button", { name: "Notifications" })).toBeVisible();

  // --- the friend's shopping list, and marking a gift bought
  await openNav(friend.page, "Shopping list");
  const bought = friend.page.getByTestId("reservation").filter({ hasText: "Espresso machine" });
  await bought.getByRole("checkbox", { name: "Bought Espresso machine" }).check();
  await expect(bought).toContainText("Bought");
  await friend.page.reload();
  await expect(friend.page.getByTestId("reservation").filter({ hasText: "Espresso machine" }).getByRole("checkbox", { name: "Bought Espresso machine" })).toBeChecked();
  await shot(friend.page, info, "shopping-list");

  // --- a read-only link, opened by someone not logged in
  await owner.page.goto(listUrl);
  await owner.page.getByRole("button", { name: "Create link" }).click();
  const link = await owner.page.getByLabel("Share link").inputValue();
  const anonymous = await browser.newPage();
  await anonymous.goto(new URL(new URL(link).pathname, info.project.use.baseURL).toString());
  await expect(anonymous.getByRole("heading", { name: "Olivia’s birthday" })).toBeVisible();
  await expect(anonymous.getByRole("link", { name: "Log in to join" })).toBeVisible();
  await expect(anonymous.getByTestId("availability")).toHaveCount(0);
  await shot(anonymous, info, "public-link");

  // --- the visitor signs up from the link and joins the list
  await anonymous.getByRole("link", { name: "Log in to join" }).click();
  await anonymous.getByRole("link", { name: "Create an account" }).click();
  await anonymous.getByLabel("Your name").fill("Gina");
  await anonymous.getByLabel("Email").fill(`gina-${Date.now().toString(36)}@example.com`);
  await anonymous.getByLabel("Password").fill(PASSWORD);
  await anonymous.getByRole("button", { name: "Create account" }).click();
  await anonymous.getByRole("button", { name: "Join this list" }).click();
  await anonymous.waitForURL(listUrl);
  await expect(anonymous.getByTestId("item").filter({ hasText: "Espresso machine" }).getByTestId("availability")).toContainText("Already reserved");
  await expect(anonymous.getByRole("button", { name: "Reserve Cookbook" })).toBeVisible();
  await anonymous.emulateMedia({ colorScheme: "dark" });
  await shot(anonymous, info, "viewer-list-dark");

  // --- the settings screen; a wrong current password is named at its field
  await friend.page.getByRole("link", { name: "Account settings" }).click();
  await friend.page.getByLabel("Current password").fill(`${PASSWORD}-wrong`);
  await friend.page.getByLabel("New password").fill("a new long password");
  await friend.page.getByRole("button", { name: "Change password" }).click();
  await expect(friend.page.getByText("That is not your current password.")).toBeVisible();
  await expect(friend.page.getByLabel("Current password")).toHaveAttribute("aria-invalid", "true");
  await shot(friend.page, info, "settings");
});
