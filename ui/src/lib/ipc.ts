// The only way the UI reaches Rust. Each function is one Tauri command of the shell
// (src-tauri), invoked through `window.__TAURI__.core.invoke` (the app sets
// `withGlobalTauri: true`). Types mirror crates/cunjie-device/src/api.rs (camelCase JSON);
// change both together.

import { locate, type GeoApi, type Located } from './position';

export type Role = 'INSPECTOR' | 'CLEANER';

export interface SyncBadge {
  pendingRecords: number;
  pendingPhotos: number;
  photoBytesRemaining: number;
  lastSuccess: string | null;
  lastErrorZh: string | null;
  syncing: boolean;
  needsReenroll: boolean;
}

export interface Position {
  lat: number;
  lon: number;
  accuracyM: number;
}

export interface Settings {
  language: string;
  photoLongEdge: number;
  fixedPosition: Position | null;
}

export interface AppStatus {
  enrolled: boolean;
  personName: string | null;
  role: Role | null;
  townshipName: string | null;
  serverUrl: string | null;
  sync: SyncBadge;
  settings: Settings;
}

export interface HouseholdItem {
  id: string;
  /** A household (农户) or a business or unit (经营户 / 单位) bound by 门前三包. */
  kind: 'household' | 'business';
  /** A business's type (沿街门市 …), null for a household. */
  businessTypeZh: string | null;
  businessTypeEn: string | null;
  doorPlate: string;
  headName: string;
  villageName: string;
  groupName: string;
  distanceM: number | null;
  inspectedThisMonth: boolean;
  /** In this month's random sample: only sampled inspections count toward the village's rank. */
  sampledThisMonth: boolean;
}

/** An inspection a township reviewer marked 有问题 that I have not corrected yet. */
export interface ReviewTask {
  id: string;
  /** The inspection sent back (what `startCorrection` takes). */
  inspectionId: string;
  /** Door plate and head of household, or the village. */
  subject: string;
  /** What the reviewer wrote. */
  comment: string;
  /** SHA-256 of the photo the remark is about, if any. */
  photo: string | null;
  /** When it was marked (RFC 3339). */
  at: string;
  /** The correction draft in progress, if started. */
  correctionId: string | null;
}

export type Outcome = 'pass' | 'fail' | 'not_applicable';

export interface ChecklistItem {
  code: string;
  labelZh: string;
  labelEn: string;
  section: string;
  sectionEn: string;
  deduction: string;
  outcome: Outcome | null;
  count: number;
  perUnit: boolean;
  naAllowed: boolean;
  photoOnFail: boolean;
  noteOnFail: boolean;
  note: string | null;
  photos: string[];
}

export interface IssueView {
  code: string;
  itemCode: string | null;
  messageZh: string;
  messageEn: string;
  blocking: boolean;
}

export interface DeductionView {
  code: string;
  labelZh: string;
  labelEn: string;
  units: number;
  amount: string;
}

export interface InspectionView {
  id: string;
  subjectLabel: string;
  subjectId: string;
  templateName: string;
  templateNameEn: string;
  /** What the score and deductions count: points (分) or yuan (元, the township's Scheme T). */
  unit: 'points' | 'yuan';
  items: ChecklistItem[];
  score: string;
  full: string;
  deductions: DeductionView[];
  issues: IssueView[];
  submitted: boolean;
}

export type CheckpointState = 'cleared' | 'overflowing' | 'damaged';

export interface CheckpointView {
  facilityId: string;
  number: string;
  kindZh: string;
  kindEn: string;
  state: CheckpointState | null;
  photos: string[];
}

export interface ZoneItem {
  id: string;
  name: string;
  checkpoints: CheckpointView[];
}

export interface ProblemKind {
  code: string;
  labelZh: string;
  labelEn: string;
}

export interface ProblemView {
  code: string;
  labelZh: string;
  labelEn: string;
  note: string | null;
  photos: string[];
}

export interface RoundView {
  id: string;
  zoneId: string;
  zoneName: string;
  startedAt: string;
  checkpoints: CheckpointView[];
  problems: ProblemView[];
  tracePoints: number;
  coveragePct: number;
  submitted: boolean;
}

export type RectificationState = 'open' | 'submitted' | 'verified' | 'rejected';

export interface RectificationItem {
  id: string;
  subjectLabel: string;
  itemLabelZh: string;
  itemLabelEn: string;
  due: string;
  state: RectificationState | string;
  overdue: boolean;
  beforePhotos: string[];
  afterPhotos: string[];
}

export interface HistoryItem {
  id: string;
  kind: 'inspection' | 'round' | string;
  label: string;
  submittedAt: string;
  state: 'pending' | 'synced' | 'rejected' | string;
  stateZh: string;
  reason: string | null;
}

/** Every command error: a stable code and a Chinese message to show as is. */
export interface IpcError {
  code: string;
  message: string;
}

interface TauriGlobal {
  core?: { invoke: (cmd: string, args?: Record<string, unknown>) => Promise<unknown> };
  geolocation?: GeoApi;
}

declare global {
  interface Window {
    __TAURI__?: TauriGlobal;
  }
}

export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as IpcError).code === 'string' &&
    typeof (e as IpcError).message === 'string'
  );
}

/** Whatever was thrown, as `{code, message}`. */
export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) return { code: e.code, message: e.message };
  if (typeof e === 'string') return { code: 'unknown', message: e };
  if (e instanceof Error) return { code: 'unknown', message: e.message };
  return { code: 'unknown', message: String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const core = typeof window !== 'undefined' ? window.__TAURI__?.core : undefined;
  if (!core) {
    throw { code: 'no_backend', message: '没有连接到应用（请在村洁应用中打开）' } as IpcError;
  }
  try {
    return (await core.invoke(cmd, args)) as T;
  } catch (e) {
    throw toIpcError(e);
  }
}

export const ipc = {
  appStatus: () => call<AppStatus>('app_status'),
  enroll: (serverUrl: string, code: string, deviceName: string) =>
    call<AppStatus>('enroll', { serverUrl, code, deviceName }),
  syncNow: () => call<SyncBadge>('sync_now'),
  saveSettings: (settings: Settings) => call<AppStatus>('save_settings', { settings }),
  signOut: () => call<AppStatus>('sign_out'),

  households: (query: string | null, near: Position | null, limit: number) =>
    call<HouseholdItem[]>('households', { query, near, limit }),
  householdByPlate: (text: string) => call<HouseholdItem>('household_by_plate', { text }),
  /** The text of the QR code in a camera photo (door plate or enrollment code), read on the phone. */
  scanQr: (photoBase64: string) => call<string>('scan_qr', { photoBase64 }),
  startInspection: (householdId: string, position: Position | null) =>
    call<InspectionView>('start_inspection', { householdId, position }),
  answerItem: (inspectionId: string, itemCode: string, outcome: Outcome, count: number, note: string | null) =>
    call<InspectionView>('answer_item', { inspectionId, itemCode, outcome, count, note }),
  attachItemPhoto: (inspectionId: string, itemCode: string, photoBase64: string, position: Position | null) =>
    call<InspectionView>('attach_item_photo', { inspectionId, itemCode, photoBase64, position }),
  submitInspection: (inspectionId: string) => call<InspectionView>('submit_inspection', { inspectionId }),
  issueRectification: (inspectionId: string, itemCode: string, due: string) =>
    call<RectificationItem>('issue_rectification', { inspectionId, itemCode, due }),
  reviewTasks: () => call<ReviewTask[]>('review_tasks'),
  /** Starts (or resumes) the draft that corrects and replaces `inspectionId`. */
  startCorrection: (inspectionId: string) => call<InspectionView>('start_correction', { inspectionId }),

  myZones: () => call<ZoneItem[]>('my_zones'),
  problemKinds: () => call<ProblemKind[]>('problem_kinds'),
  openRounds: () => call<RoundView[]>('open_rounds'),
  openInspections: () => call<InspectionView[]>('open_inspections'),
  startRound: (zoneId: string, sameAsYesterday: boolean) =>
    call<RoundView>('start_round', { zoneId, sameAsYesterday }),
  recordPosition: (roundId: string, position: Position) =>
    call<RoundView>('record_position', { roundId, position }),
  recordCheckpoint: (
    roundId: string,
    facilityId: string,
    state: CheckpointState,
    photoBase64: string | null,
    position: Position | null,
  ) => call<RoundView>('record_checkpoint', { roundId, facilityId, state, photoBase64, position }),
  reportProblem: (roundId: string, code: string, note: string | null, photoBase64: string, position: Position | null) =>
    call<RoundView>('report_problem', { roundId, code, note, photoBase64, position }),
  finishRound: (roundId: string) => call<RoundView>('finish_round', { roundId }),

  myRectifications: () => call<RectificationItem[]>('my_rectifications'),
  closeRectification: (id: string, photoBase64: string, note: string | null, position: Position | null) =>
    call<RectificationItem>('close_rectification', { id, photoBase64, note, position }),
  history: () => call<HistoryItem[]>('history'),
  photoThumbnail: (sha256: string) => call<string>('photo_thumbnail', { sha256 }),
};

/** Where a position came from, with the position (or none). */
export function locateNow(settings: Settings | null): Promise<Located> {
  const geo = typeof window !== 'undefined' ? window.__TAURI__?.geolocation : undefined;
  return locate(geo, settings);
}

/**
 * The device's position: the Tauri geolocation plugin when its JS API is present (a 0/0/0
 * desktop answer is no fix), else the labelled fixed position from settings, else null.
 * Never invents a position.
 */
export async function getPosition(settings: Settings | null): Promise<Position | null> {
  return (await locateNow(settings)).position;
}
