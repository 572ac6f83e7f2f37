/**
 * Page helpers for the Node-RED editor (4.x): they use the editor's own element ids and wait for
 * elements and states, never for fixed times.
 */
import type { Locator, Page } from 'playwright-core';

export const PACKAGE_NAME = '@labelops/node-red-playment';

declare const RED: any;

/** Loads the editor and waits until our nodes are in the palette. */
export async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="playment-submit-video-job"]');
  await page.waitForSelector('#red-ui-workspace-chart svg');
  await page.waitForFunction(() => typeof RED !== 'undefined' && RED.workspaces.active());
}

/**
 * Menu → Import → Examples → <module> → <title> → Import. The imported nodes hang on the mouse
 * until a click drops them; they are dropped with their top-left corner at `at` (workspace
 * coordinates).
 */
export async function importExample(
  page: Page,
  title: string,
  opts: { module?: string; at?: { x: number; y: number } } = {},
): Promise<void> {
  const module = opts.module ?? PACKAGE_NAME;
  const at = opts.at ?? { x: 40, y: 40 };
  // The editor places imported nodes relative to the last mouse position on the workspace.
  const origin = await workspaceOrigin(page);
  const start = { x: 400, y: 300 };
  await page.mouse.move(origin.x + start.x - 10, origin.y + start.y - 10);
  await page.mouse.move(origin.x + start.x, origin.y + start.y);

  await page.click('#red-ui-header-button-sidemenu');
  await page.click('#menu-item-import');
  await page.locator('.red-ui-clipboard-dialog-box:visible').first().waitFor();
  await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a.red-ui-tab-label');
  const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  const moduleRow = tree.locator('.red-ui-treeList-label', { hasText: module }).first();
  await moduleRow.waitFor();
  await expandTreeItem(moduleRow);
  const flowRow = tree.locator('.red-ui-treeList-label', { hasText: title }).first();
  await flowRow.waitFor();
  await flowRow.click();
  await page.waitForSelector('#red-ui-clipboard-dialog-ok:not(.ui-state-disabled):not(.disabled):not([disabled])');
  const flowRequest = page.waitForResponse((res) => res.url().includes('/library/examples/flows/') && res.ok());
  await page.click('#red-ui-clipboard-dialog-ok');
  await flowRequest;
  await page.waitForFunction(() => RED.view.state() === RED.state.IMPORT_DRAGGING);

  const box = await page.evaluate(() => {
    const moving = RED.nodes.filterNodes({ z: RED.workspaces.active() }).filter((n: any) => n.selected);
    return {
      left: Math.min(...moving.map((n: any) => n.x - (n.w || 0) / 2)),
      top: Math.min(...moving.map((n: any) => n.y - (n.h || 0) / 2)),
    };
  });
  const target = { x: start.x + at.x - box.left, y: start.y + at.y - box.top };
  await page.mouse.move(origin.x + target.x, origin.y + target.y, { steps: 5 });
  await page.mouse.down();
  await page.mouse.up();
  await page.waitForFunction(() => RED.view.state() === RED.state.DEFAULT);
}

async function expandTreeItem(label: Locator): Promise<void> {
  // A tree item's label sits in its container, which gets the class "expanded" when open.
  const expanded = await label.evaluate((el) => el.parentElement?.classList.contains('expanded') ?? false);
  if (!expanded) await label.click();
}

/** Page coordinates of the workspace point (0,0), at the current scroll and zoom 1. */
export async function workspaceOrigin(page: Page): Promise<{ x: number; y: number }> {
  const box = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!box) throw new Error('no workspace');
  const scroll = await page.evaluate(() => {
    const c = document.getElementById('red-ui-workspace-chart')!;
    return { left: c.scrollLeft, top: c.scrollTop };
  });
  return { x: box.x - scroll.left, y: box.y - scroll.top };
}

/** All nodes of the active flow, as the editor holds them. */
export async function flowNodes(page: Page): Promise<Array<{ id: string; type: string; name: string }>> {
  return page.evaluate(() =>
    RED.nodes.filterNodes({ z: RED.workspaces.active() }).map((n: any) => ({ id: n.id, type: n.type, name: n.name || '' })),
  );
}

export function nodeLocator(page: Page, id: string): Locator {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
}

/** Double-clicks a node in the workspace and waits for its edit tray. */
export async function openNodeDialog(page: Page, id: string): Promise<void> {
  await nodeLocator(page, id).locator('rect.red-ui-flow-node').first().dblclick();
  await page.waitForSelector('#node-dialog-ok:visible');
}

async function waitForTrayClosed(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0);
}

export async function closeNodeDialog(page: Page, how: 'ok' | 'cancel'): Promise<void> {
  await page.click(how === 'ok' ? '#node-dialog-ok' : '#node-dialog-cancel');
  await waitForTrayClosed(page);
}

/** From an open node dialog: the pencil next to the config select opens the config node's tray. */
export async function openConfigDialogFrom(page: Page, property = 'config'): Promise<void> {
  await page.click(`#node-input-btn-${property}-edit`);
  await page.waitForSelector('#node-config-dialog-ok:visible');
}

export async function closeConfigDialog(page: Page, how: 'ok' | 'cancel'): Promise<void> {
  await page.click(how === 'ok' ? '#node-config-dialog-ok' : '#node-config-dialog-cancel');
  await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
}

/**
 * Drags a node from the palette onto the workspace point `at` (workspace coordinates) and returns
 * the new node's id.
 */
export async function dragFromPalette(page: Page, type: string, at: { x: number; y: number }): Promise<string> {
  const before: string[] = await page.evaluate(() => RED.nodes.filterNodes({ z: RED.workspaces.active() }).map((n: any) => n.id));
  const item = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  const box = await item.boundingBox();
  if (!box) throw new Error(`${type} is not in the palette`);
  const origin = await workspaceOrigin(page);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 30, box.y + box.height / 2 + 5, { steps: 5 });
  await page.mouse.move(origin.x + at.x, origin.y + at.y, { steps: 10 });
  await page.mouse.up();
  const handle = await page.waitForFunction(
    ({ t, known }) => {
      const added = RED.nodes.filterNodes({ z: RED.workspaces.active(), type: t }).find((n: any) => !known.includes(n.id));
      return added ? added.id : null;
    },
    { t: type, known: before },
  );
  const id = (await handle.jsonValue()) as string;
  await nodeLocator(page, id).waitFor({ state: 'visible' });
  await page.waitForFunction(() => RED.view.state() === RED.state.DEFAULT);
  return id;
}

/** Selects one node and removes it with the Delete key. */
export async function selectAndDelete(page: Page, id: string): Promise<void> {
  await page.evaluate((nid) => {
    RED.view.select(nid);
    RED.view.focus();
  }, id);
  await page.keyboard.press('Delete');
  await nodeLocator(page, id).waitFor({ state: 'detached' });
}

/** Clicks Deploy and waits until the editor counts the flows as deployed. */
export async function deploy(page: Page): Promise<void> {
  await page.waitForSelector('#red-ui-header-button-deploy:not(.disabled)');
  // With invalid nodes the editor asks for a confirmation instead of deploying.
  const invalid: string[] = await page.evaluate(() =>
    RED.nodes
      .filterNodes({})
      .filter((n: any) => n.valid === false)
      .map((n: any) => `${n.type} ${n.id}`),
  );
  if (invalid.length) throw new Error(`invalid nodes in the workspace: ${invalid.join(', ')}`);
  const posted = page.waitForResponse((res) => res.url().endsWith('/flows') && res.request().method() === 'POST');
  await page.click('#red-ui-header-button-deploy');
  const res = await posted;
  if (res.status() !== 200) throw new Error(`deploy answered HTTP ${res.status()}: ${await res.text()}`);
  await page.waitForSelector('#red-ui-header-button-deploy.disabled');
  await page.waitForFunction(() => !RED.nodes.dirty());
}

/** Brings the debug sidebar tab to the front. */
export async function showDebugSidebar(page: Page): Promise<Locator> {
  const link = page.locator('#red-ui-tab-debug-link-button');
  await link.click();
  const panel = page.locator('.red-ui-debug-content');
  await panel.first().waitFor();
  return page.locator('.red-ui-debug-msg');
}
