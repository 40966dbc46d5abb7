// Reads the crateLens.* settings into what the daemon needs, applying workspace trust.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DaemonSettings } from '../server/protocol';

const PRESETS = ['tiny', 'small', 'base', 'large', 'demo-base-8', 'demo-base-16', 'mae-base'];
/** CRATE-alpha presets: alpha-B/16, alpha-L/14, ... */
const ALPHA_PRESET = /^alpha-[BLH]\/(32|16|14|8)$/;

/** Expands ${workspaceFolder} and resolves relative paths against the first workspace folder. */
export function resolveSettingPath(value: string): string {
  if (!value) return '';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const expanded = value.replace(/\$\{workspaceFolder\}/g, folder ?? '');
  if (path.isAbsolute(expanded) || !folder) return expanded;
  return path.resolve(folder, expanded);
}

function insideWorkspace(file: string): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some((f) => {
    const rel = path.relative(f.uri.fsPath, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  });
}

export function readSettings(): DaemonSettings {
  const c = vscode.workspace.getConfiguration('crateLens');
  const checkpoint = resolveSettingPath(c.get<string>('checkpoint', ''));
  const rawConfig = c.get<string>('config', '');
  const config = PRESETS.includes(rawConfig) || ALPHA_PRESET.test(rawConfig) ? rawConfig : resolveSettingPath(rawConfig);
  const head = c.get<string>('hover.head', 'mean');
  const settings: DaemonSettings = {
    checkpoint,
    config,
    backend: c.get<DaemonSettings['backend']>('backend', 'auto'),
    resize: c.get<DaemonSettings['resize']>('resize', 'config'),
    imageSize: c.get<number>('imageSize', 0),
    hover: {
      enabled: c.get<boolean>('hover.enabled', true),
      layer: c.get<number>('hover.layer', -1),
      head: head === 'mean' || !/^\d+$/.test(head) ? 'mean' : Number(head),
    },
    cacheSize: c.get<number>('cacheSize', 64),
    // Machine-scoped in package.json, so a workspace's own settings cannot turn it on.
    security: { allowImagesOutsideWorkspace: c.get<boolean>('security.allowImagesOutsideWorkspace', false) === true },
  };
  // A checkpoint from an untrusted workspace is not even read until the user trusts the folder.
  if (!vscode.workspace.isTrusted && ((checkpoint && insideWorkspace(checkpoint)) || (config && insideWorkspace(config)))) {
    settings.blocked = 'workspace not trusted: its checkpoint is loaded once you trust this folder';
  }
  return settings;
}
