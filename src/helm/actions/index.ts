/** @module Helm 3's release actions over a skiff Client: install, upgrade, rollback, uninstall, list, history, status/get and test, with their helm-style output. */
export { ActionConfig, defaultTimeoutMs, type ActionConfigOptions, type ChartSource, type ReleaseOptions, type RenderOutput } from './config.js';
export { HelmActionError, computedValues, plainValues, validateReleaseName } from './common.js';
export { install, generateReleaseName, renderRelease, type InstallOptions } from './install.js';
export { upgrade, type UpgradeOptions } from './upgrade.js';
export { rollback, type RollbackOptions } from './rollback.js';
export { uninstall, type UninstallOptions, type UninstallResult } from './uninstall.js';
export { list, type ListOptions } from './list.js';
export { getRelease, history } from './get.js';
export { releaseTest, type TestOptions } from './test.js';
export { sortManifests, manifestString, type RenderedFile } from './manifests.js';
export * from './output.js';
export { chartSource, chartToJson } from './chart-source.js';
