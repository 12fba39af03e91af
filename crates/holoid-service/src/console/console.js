// The counter officer's console for the holoid verifier service. Served by `holoid serve`
// from the binary (no CDN), talks only to the service's own API with the officer's token,
// which is kept in sessionStorage and cleared on sign-out.
'use strict';

const TEXT = {
  ko: {
    title: '신분증 확인', nav_check: '확인', nav_copies: '사본 목록', nav_audit: '감사 기록',
    sign_in: '로그인', sign_out: '로그아웃', token_label: '담당자 토큰',
    token_hint: '토큰은 이 탭에만 보관되며 로그아웃하면 지워집니다.',
    check_title: '휴대폰 화면 확인', camera_start: '카메라 켜기', capture: '확인 시작',
    upload: '사진 파일로 확인',
    check_hint: '휴대폰 화면 전체가 안내선 안에 들어오게 하세요. 카메라를 비추면 자동으로 확인하고, 신분증을 찾으면 안내선이 초록색이 됩니다.',
    purpose: '사본 용도', store_copy: '사본 저장', back: '목록으로', print: '인쇄',
    copy_title: '검증된 사본 / VERIFIED COPY', copies_title: '사본 목록', older: '이전 사본',
    audit_title: '감사 기록', col_time: '시각', col_purpose: '용도', col_officer: '담당자',
    col_expires: '보관 기한', col_action: '행위', col_office: '기관', col_subject: '대상',
    genuine: '진본', forgery: '위조', inconclusive: '재촬영 필요',
    checked_in: (ms, n) => `${n}장 · ${Math.round(ms)} ms 만에 확인`,
    read_here: '이 기기에서 판독 — 사진은 전송하지 않음',
    card_status: (s, e) => `등록 상태: ${s} (${e}번째 등록 기기)`,
    checking: '확인 중…', signed_in: (r, o, n, v) => `${n} · ${o} (${r}${v ? ` · ${v}` : ''})`,
    bad_token: '토큰이 거부되었습니다. 토큰을 확인하고 다시 로그인하세요.',
    expired: '로그인이 만료되었거나 토큰이 취소되었습니다. 다시 로그인하세요.',
    forbidden: '이 기관 또는 역할로는 볼 수 없는 자료입니다.',
    not_found: '찾을 수 없습니다.',
    busy: (s) => `서버가 바쁩니다. ${s}초 후에 다시 시도하세요.`,
    network: '서버에 연결할 수 없습니다. 네트워크를 확인하세요.',
    camera_denied: '카메라 사용이 거부되었습니다. 브라우저 설정에서 허용하거나 사진 파일로 확인하세요.',
    no_camera: '카메라가 없습니다. 사진 파일로 확인하세요.',
    copy_stored: '사본을 저장했습니다.',
    sig_ok: '서명 확인됨', sig_bad: '서명 불일치',
    f_office: '기관', f_officer: '담당자', f_time: '검증 시각', f_purpose: '용도',
    f_credential: '신분증', f_copy: '사본 번호', f_expires: '보관 기한', f_signature: '서명',
    audit_ok: (n) => `무결성 확인: ${n}건, 변조 없음`, audit_broken: (p) => `무결성 오류: ${p}`,
    no_copies: '저장된 사본이 없습니다.',
    nav_status: '발급 · 분실 신고', status_title: '휴대폰 발급 · 분실 신고', credential_id: '신분증 번호',
    issue: 'QR 코드로 휴대폰에 발급',
    offer_hint: '휴대폰의 모바일 신분증 앱으로 이 QR 코드를 스캔하게 하세요. 한 번만, 5분 동안 쓸 수 있습니다.',
    offer_pending: (s) => `휴대폰을 기다리는 중… ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} 남음`,
    offer_enrolled: (e) => `휴대폰에 등록되었습니다 (${e}번째 등록 기기). 이전 기기의 신분증은 더 이상 유효하지 않습니다.`,
    offer_expired: 'QR 코드가 만료되었습니다. 새로 발급하세요.',
    find: '조회', reason: '사유', suspend: '효력 정지 (분실)', resume: '정지 해제 (찾음)',
    revoke: '폐기', col_epoch: '등록 기기', col_status: '상태', col_reason: '사유',
    st_valid: '유효', st_suspended: '효력 정지', st_revoked: '폐기됨', st_replaced: '다른 기기로 이전',
    status_now: (id, s, e, at) => `${id}: ${s} — ${e}번째 등록 기기, ${at} 변경`,
    need_reason: '사유를 적어 주세요.',
    registered_photo: '등록 사진', photographed_card: '촬영된 신분증',
    point_camera: '휴대폰 화면을 안내선 안에 비추세요. 자동으로 확인합니다.', check_again: '다시 확인',
    compare_hint: '등록 사진과 앞에 있는 사람의 얼굴을 비교하세요.',
    match_yes: '본인 맞음', match_no: '본인 아님',
    match_said_yes: '기록됨: 본인이 맞습니다.', match_said_no: '기록됨: 본인이 아닙니다. 신분증을 받지 마세요.',
    f_name: '이름', f_name_latin: '영문 이름', f_birth: '생년월일', f_rrn: '주민등록번호', f_address: '주소',
    f_expires_card: '유효기간', f_document: '신분증 종류',
    age_years: (d, a) => `${d} (만 ${a}세)`,
    doc_resident_registration: '모바일 주민등록증', doc_driving_licence: '모바일 운전면허증',
    age_ok: (n) => `${n}세 이상`, age_under: (n) => `${n}세 미만`,
  },
  en: {
    title: 'ID check', nav_check: 'Check', nav_copies: 'Copies', nav_audit: 'Audit log',
    sign_in: 'Sign in', sign_out: 'Sign out', token_label: 'Officer token',
    token_hint: 'The token stays in this tab only and is cleared when you sign out.',
    check_title: 'Check a phone screen', camera_start: 'Start camera', capture: 'Start checking',
    upload: 'Check photo files',
    check_hint: 'Fit the whole phone screen inside the guide. Pointing the camera is enough: bursts are checked until one is decided, and the guide turns green when the card is found.',
    purpose: 'Purpose of the copy', store_copy: 'Store copy', back: 'Back to list', print: 'Print',
    copy_title: 'Verified copy / 검증된 사본', copies_title: 'Copies', older: 'Older copies',
    audit_title: 'Audit log', col_time: 'Time', col_purpose: 'Purpose', col_officer: 'Officer',
    col_expires: 'Kept until', col_action: 'Action', col_office: 'Office', col_subject: 'Subject',
    genuine: 'GENUINE', forgery: 'FORGERY', inconclusive: 'RETAKE',
    checked_in: (ms, n) => `${n} photo(s) · checked in ${Math.round(ms)} ms`,
    read_here: 'read on this device — no photo sent',
    card_status: (s, e) => `Registered status: ${s} (device enrolment ${e})`,
    checking: 'Checking…', signed_in: (r, o, n, v) => `${n} · ${o} (${r}${v ? ` · ${v}` : ''})`,
    bad_token: 'The token was refused. Check it and sign in again.',
    expired: 'Your sign-in expired or the token was revoked. Sign in again.',
    forbidden: 'Your office or role may not see this.',
    not_found: 'Not found.',
    busy: (s) => `The server is busy. Try again in ${s} s.`,
    network: 'The server cannot be reached. Check the network.',
    camera_denied: 'Camera access was denied. Allow it in the browser settings, or check photo files.',
    no_camera: 'No camera found. Check photo files instead.',
    copy_stored: 'The copy was stored.',
    sig_ok: 'signature valid', sig_bad: 'signature INVALID',
    f_office: 'Office', f_officer: 'Officer', f_time: 'Verified at', f_purpose: 'Purpose',
    f_credential: 'Credential', f_copy: 'Copy', f_expires: 'Kept until', f_signature: 'Signature',
    audit_ok: (n) => `Integrity verified: ${n} entries, none altered`, audit_broken: (p) => `Integrity broken: ${p}`,
    no_copies: 'No copies stored.',
    nav_status: 'Issue · lost phones', status_title: 'Issue to a phone · lost phones', credential_id: 'Credential id',
    issue: 'Issue to a phone by QR code',
    offer_hint: 'Have the holder scan this QR code with the mobile ID app. It works once, for 5 minutes.',
    offer_pending: (s) => `Waiting for the phone… ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} left`,
    offer_enrolled: (e) => `Enrolled on the phone (device enrolment ${e}). The card on any earlier phone no longer verifies.`,
    offer_expired: 'The QR code expired. Issue a new one.',
    find: 'Find', reason: 'Reason', suspend: 'Suspend (reported lost)', resume: 'Resume (found)',
    revoke: 'Revoke', col_epoch: 'Phone', col_status: 'Status', col_reason: 'Reason',
    st_valid: 'valid', st_suspended: 'SUSPENDED', st_revoked: 'REVOKED', st_replaced: 'moved to another phone',
    status_now: (id, s, e, at) => `${id}: ${s} — device enrolment ${e}, changed ${at}`,
    need_reason: 'State the reason.',
    registered_photo: 'Registered photo', photographed_card: 'Card as photographed',
    point_camera: 'Point the camera at the phone screen, inside the guide: it is checked by itself.', check_again: 'Check again',
    compare_hint: 'Compare the registered photo with the face of the person in front of you.',
    match_yes: 'Person matches', match_no: 'Does not match',
    match_said_yes: 'Recorded: the person matches.', match_said_no: 'Recorded: the person does NOT match. Do not accept the card.',
    f_name: 'Name', f_name_latin: 'Name (Latin)', f_birth: 'Date of birth', f_rrn: 'Resident no.', f_address: 'Address',
    f_expires_card: 'Valid until', f_document: 'Document',
    age_years: (d, a) => `${d} (age ${a})`,
    doc_resident_registration: 'Mobile resident registration card', doc_driving_licence: 'Mobile driving licence',
    age_ok: (n) => `${n}+`, age_under: (n) => `UNDER ${n}`,
  },
};

let lang = sessionStorage.getItem('holoid-lang') || 'ko';
let me = null;
let lastCheck = null;
let stream = null;
let olderBefore = null;

const $ = (id) => document.getElementById(id);
const t = (key, ...args) => {
  const v = TEXT[lang][key];
  return typeof v === 'function' ? v(...args) : v;
};

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  $('lang').textContent = lang === 'ko' ? 'English' : '한국어';
  document.title = `holoid — ${t('title')}`;
}

function say(text, error = true) {
  const m = $('message');
  m.textContent = text;
  m.className = error ? 'message error' : 'message';
  m.hidden = !text;
}

class ApiError extends Error {
  constructor(status, message, code = '', retryAfter = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// One API call with the token; turns every failure into words.
async function api(path, options = {}) {
  const token = sessionStorage.getItem('holoid-token');
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = `Bearer ${token}`;
  let r;
  try {
    r = await fetch(path, Object.assign({}, options, { headers }));
  } catch (e) {
    throw new ApiError(0, t('network'));
  }
  if (r.ok) return r;
  let detail = '';
  let code = '';
  try {
    const e = (await r.json()).error;
    detail = e.message;
    code = e.code;
  } catch (e) { detail = r.statusText; }
  const wait = Number(r.headers.get('Retry-After') || '1');
  if (r.status === 401) throw new ApiError(401, me ? t('expired') : t('bad_token'), code);
  if (r.status === 403) throw new ApiError(403, t('forbidden'), code);
  if (r.status === 404) throw new ApiError(404, t('not_found'), code);
  if (r.status === 503) throw new ApiError(503, t('busy', wait), code, wait);
  throw new ApiError(r.status, detail, code, r.status === 429 ? wait : 0);
}

function fail(e) {
  say(e.message || String(e));
  if (e.status === 401 && me) signOut(false);
}

function show(view) {
  document.querySelectorAll('.view').forEach((v) => { v.hidden = v.id !== `view-${view}`; });
  document.body.classList.toggle('printing', view === 'copy' && location.hash.endsWith('/print'));
}

async function signIn(token) {
  sessionStorage.setItem('holoid-token', token);
  try {
    me = await (await api('/v1/me')).json();
  } catch (e) {
    sessionStorage.removeItem('holoid-token');
    me = null;
    throw e;
  }
  $('who').textContent = t('signed_in', me.role, me.office, me.name, viewName());
  $('nav').hidden = false;
  $('signout').hidden = false;
  $('nav-audit').hidden = me.role !== 'auditor';
  // A shop's (age) or a kiosk's token checks only: no copies, no status desk.
  const identity = me.view === 'identity';
  $('nav-status').hidden = me.role === 'auditor' || !identity;
  $('nav-copies').hidden = !identity;
  say('');
  readerReady();
}

// Everything the last person saw (a check, a copy, a list, a status, the log) leaves the page
// with them: the next person to sign in at this screen may see less.
function forget() {
  stopOffer();
  stopWatching();
  readerStop();
  lastCheck = null;
  $('result').hidden = true;
  for (const id of ['reasons', 'holder-record', 'copy-details', 'copies-body', 'status-history',
    'audit-body', 'status-now', 'audit-status', 'offer-text', 'verdict', 'verdict-meta', 'verdict-status']) {
    $(id).textContent = '';
  }
  for (const id of ['portrait', 'card', 'copy-image', 'offer-qr']) {
    const img = $(id);
    if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
    img.removeAttribute('src');
  }
  $('holder').hidden = true;
  $('status-card').hidden = true;
  delete $('status-card').dataset.credential;
  $('offer').hidden = true;
  $('status-id').value = '';
  $('purpose').value = '';
}

// What the token sees, when it is not the whole record: 'age 19+', 'kiosk'.
function viewName() {
  if (!me || me.view === 'identity') return '';
  return me.view === 'age' ? `age ${me.age_over}+` : me.view;
}

function signOut(clear = true) {
  sessionStorage.removeItem('holoid-token');
  me = null;
  forget();
  document.body.classList.remove('kiosk-mode');
  if (stream) { stream.getTracks().forEach((tr) => tr.stop()); stream = null; }
  $('who').textContent = '';
  $('nav').hidden = true;
  $('signout').hidden = true;
  if (clear) say('');
  location.hash = '#signin';
  route();
}

async function startCamera(video = $('video')) {
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      // The camera's own modes only (no browser rescaling, which can stretch the picture),
      // as sharp as it offers.
      video: { facingMode: 'environment', width: { ideal: 1920 }, resizeMode: 'none' },
      audio: false,
    });
    video.srcObject = stream;
    $('capture').disabled = false;
    say('');
    await new Promise((resolve) => {
      if (video.readyState >= 2 && video.videoWidth) resolve();
      else video.addEventListener('loadeddata', resolve, { once: true });
    });
    return true;
  } catch (e) {
    say(e && e.name === 'NotAllowedError' ? t('camera_denied') : t('no_camera'));
    return false;
  }
}

// The counter: pointing the camera is enough; the frame guide turns green when the card is
// found, and a decided check shows the verdict (the button checks again).
async function counterWatch() {
  if (!stream && !(await startCamera())) return;
  $('result').hidden = true;
  $('live-hint').textContent = t('point_camera');
  $('capture').textContent = t('capture');
  await watchCamera(
    document.querySelector('#view-check .guide'),
    (r) => { $('live-hint').textContent = r ? r.message : t('point_camera'); },
    async (v, ms) => {
      $('live-hint').textContent = '';
      window.holoidTimeToVerdict = ms;
      await showVerdict(v, ms, 3);
      $('capture').textContent = t('check_again');
    },
  );
}

function frameBlob(video) {
  const c = document.createElement('canvas');
  c.width = video.videoWidth;
  c.height = video.videoHeight;
  c.getContext('2d').drawImage(video, 0, 0);
  return new Promise((resolve) => c.toBlob(resolve, 'image/jpeg', 0.92));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends a burst to be checked: the verdict, or the ApiError. Frames the reader measured go
// as their evidence; others (no WebAssembly reader, or files) as photos.
async function send(shots) {
  if (shots[0].reading) return sendEvidence(shots);
  const form = new FormData();
  shots.forEach((s, i) => {
    form.append('image', s.blob, `frame-${i}.jpg`);
    form.append('captured_at', (s.at / 1000).toFixed(3));
  });
  return (await api('/v1/checks', { method: 'POST', body: form })).json();
}

// The reader where the camera is (issue #22): a worker measures camera frames with the
// detector's keyless half in WebAssembly (/console/reader.js), and a check sends only what it
// measured (POST /v1/checks/evidence, about a kilobyte a frame): the photos of the holder's ID
// never leave this device. The record a card is measured against (its lettering, its
// portrait's colour grid) is fetched once per card by the locator its code carries. Where the
// service serves no WebAssembly reader, or this browser cannot run it, frames go as photos.
const reader = {
  worker: null, ready: null, req: 0, waiting: new Map(), held: new Set(), fetching: new Map(), frame: 0, locator: null,
};

function readerAsk(message, transfer = []) {
  return new Promise((resolve, reject) => {
    if (!reader.worker) {
      reject(new Error('the reader is not running'));
      return;
    }
    const req = ++reader.req;
    reader.waiting.set(req, { resolve, reject });
    reader.worker.postMessage(Object.assign({ req }, message), transfer);
  });
}

// The worker ends with the person signed in: the records it holds are theirs to see.
function readerStop() {
  if (reader.worker) reader.worker.terminate();
  for (const w of reader.waiting.values()) w.reject(new Error('the reader stopped'));
  Object.assign(reader, {
    worker: null, ready: null, waiting: new Map(), held: new Set(), fetching: new Map(), locator: null,
  });
}

// Starts the worker once: true when its WebAssembly is ready, false where it cannot be.
function readerReady() {
  if (reader.ready) return reader.ready;
  if (!(window.Worker && window.WebAssembly)) {
    reader.ready = Promise.resolve(false);
    return reader.ready;
  }
  const worker = new Worker('/console/reader.js', { type: 'module' });
  reader.worker = worker;
  worker.onmessage = (ev) => {
    const w = reader.waiting.get(ev.data.req);
    if (!w) return;
    reader.waiting.delete(ev.data.req);
    if (ev.data.held) reader.held = new Set(ev.data.held);
    if (ev.data.ok) w.resolve(ev.data);
    else w.reject(new Error(ev.data.error));
  };
  // A worker whose module cannot load (no --console-wasm: its files are 404) only errs.
  const failed = new Promise((resolve) => {
    worker.onerror = (ev) => {
      ev.preventDefault();
      console.warn('holoid reader: the worker failed:', ev.message || 'its module did not load');
      resolve(false);
    };
  });
  const hello = readerAsk({ type: 'hello' }).then(() => true, (e) => {
    console.warn('holoid reader: the WebAssembly did not start:', e.message);
    return false;
  });
  reader.ready = Promise.race([hello, failed]).then((ok) => {
    if (!ok && reader.worker === worker) {
      worker.terminate();
      reader.worker = null;
    }
    window.holoidReader = ok ? 'webassembly' : 'photos';
    return ok;
  });
  return reader.ready;
}

// The record of the card whose code carries `locator`, fetched and handed to the reader once
// (asked for as soon as a frame shows a new card, while the burst's next frames are taken).
function ensureRecord(locator) {
  if (reader.held.has(locator)) return Promise.resolve();
  if (!reader.fetching.has(locator)) {
    const worker = reader.worker;
    const got = (async () => {
      const json = await (await api(`/v1/records/${locator}`)).text();
      if (reader.worker === worker) await readerAsk({ type: 'record', locator, json });
    })();
    reader.fetching.set(locator, got);
    const fetching = reader.fetching;
    got.finally(() => fetching.delete(locator)).catch(() => {});
  }
  return reader.fetching.get(locator);
}

// The burst's evidence, measured against the record of the card the frames show (fetched,
// and the frames measured again, when the reader did not yet hold it), sent to be judged.
// No code read in any frame: refused here as the service would (`code_unreadable`), with
// nothing sent.
async function sendEvidence(shots) {
  const ids = shots.map((s) => s.id);
  try {
    let got = await Promise.all(shots.map((s) => s.reading));
    const locator = got.map((g) => g.reading.locator).find((l) => l);
    if (!locator) throw new ApiError(422, 'no code in these frames', 'code_unreadable');
    if (got.some((g) => g.with !== locator)) {
      await ensureRecord(locator);
      got = await Promise.all(got.map((g, i) => (g.with === locator
        ? g : readerAsk({ type: 'reread', id: ids[i], locator }))));
    }
    reader.locator = locator;
    window.holoidFrameMs = (window.holoidFrameMs || []).concat(got.map((g) => g.ms));
    const body = JSON.stringify({ frames: got.map((g) => g.reading.evidence) });
    const v = await (await api('/v1/checks/evidence', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
    })).json();
    // The card straightened from the burst's best frame (its portrait the least off colour,
    // as the portrait check chooses), kept on this device: shown beside the registered
    // portrait, and sent only if the officer stores a copy.
    if (v.decision === 'genuine' && me && me.view === 'identity') {
      const off = (i) => {
        const e = got[i].reading.evidence;
        return e.code && e.portrait ? e.portrait[1] : 2;
      };
      const best = ids.reduce((b, _, i) => (off(i) < off(b) ? i : b), 0);
      try {
        v.card_png = (await readerAsk({ type: 'card', id: ids[best] })).png;
      } catch (e) { console.warn('holoid reader: no card image:', e); }
    }
    return Object.assign(v, { read_here: true });
  } finally {
    readerAsk({ type: 'forget', ids }).catch(() => {});
  }
}

async function check(shots) {
  $('result').hidden = true;
  say(t('checking'), false);
  const started = performance.now();
  try {
    const v = await send(shots);
    say('');
    await showVerdict(v, performance.now() - started, shots.length);
  } catch (e) { fail(e); }
}

// Continuous capture: while the camera is on, bursts of three frames (250 ms apart) are
// checked one after another until one is decided (genuine or forgery); a retake says what
// to do and the next burst follows. A scene the last burst showed to hold no card (its code
// unread) is not sent again until something in front of the camera changes, so an idle
// camera makes no requests. `onDecided(v, ms)` gets each decided verdict and the time from
// the first frame of the run in which a card was seen to the answer.
const watch = { on: false, idle: null, seenAt: 0 };

function thumb(video) {
  const c = document.createElement('canvas');
  c.width = 32;
  c.height = 18;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(video, 0, 0, 32, 18);
  const d = g.getImageData(0, 0, 32, 18).data;
  const out = new Float32Array(32 * 18);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2];
  return out;
}

// Mean absolute difference of two thumbnails, 0-255.
function change(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

// One camera frame: its time, a thumbnail to notice change, and either its measurement by
// the reader (started at once, so it runs while the next frames are taken) or a JPEG.
async function grab(video, local) {
  const at = Date.now();
  const look = thumb(video);
  if (local) {
    const id = ++reader.frame;
    const { width, height } = { width: video.videoWidth, height: video.videoHeight };
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(video, 0, 0);
    const rgba = g.getImageData(0, 0, width, height).data.buffer;
    const frame = { type: 'frame', id, rgba, width, height, at, locator: reader.locator };
    const reading = readerAsk(frame, [rgba]);
    reading.then((g) => {
      const seen = g.reading.locator;
      if (seen && seen !== g.with) ensureRecord(seen).catch(() => {});
    }).catch(() => {});
    return { id, at, look, reading };
  }
  return { blob: await frameBlob(video), at, look };
}

// `onUnknown`, where given, takes a card this service has no credential for (its code read, its
// locator unknown: a look-alike app's, another issuer's card) as an outcome, as the kiosk must:
// elsewhere the officer is shown the service's words and the camera stops.
async function watchCamera(guide, onRetake, onDecided, onUnknown = null) {
  if (watch.on) return;
  watch.on = true;
  watch.idle = null;
  watch.seenAt = 0;
  const video = guide.closest('.camera, .kiosk').querySelector('video');
  while (watch.on && stream) {
    const local = await readerReady();
    if (watch.idle && change(thumb(video), watch.idle) < 6) {
      await sleep(200);
      continue;
    }
    const shots = [await grab(video, local)];
    const first = performance.now();
    for (let i = 1; i < 3 && watch.on; i++) {
      await sleep(250);
      shots.push(await grab(video, local));
    }
    if (!watch.on) {
      if (local) readerAsk({ type: 'forget', ids: shots.map((s) => s.id) }).catch(() => {});
      break;
    }
    try {
      const v = await send(shots);
      if (!watch.seenAt) watch.seenAt = first;
      const found = !v.reasons.some((r) => r.code === 'card_not_found');
      guide.classList.toggle('found', found);
      if (v.decision !== 'inconclusive') {
        watch.on = false;
        await onDecided(v, performance.now() - watch.seenAt);
        return;
      }
      watch.idle = null;
      onRetake(v.reasons.find((r) => r.outcome === 'retake'));
    } catch (e) {
      // Stopped meanwhile (signed out, another view): whatever failed, nothing more to do.
      if (!watch.on) break;
      if (e.code === 'code_unreadable') {
        // No card's code in this scene: wait for it to change.
        watch.idle = shots[shots.length - 1].look;
        watch.seenAt = 0;
        guide.classList.remove('found');
        onRetake(null);
      } else if (e.retryAfter) {
        onRetake({ message: e.message });
        await sleep(e.retryAfter * 1000);
      } else if (onUnknown && e.status === 404 && e.code === 'not_found') {
        watch.on = false;
        await onUnknown(performance.now() - (watch.seenAt || first));
        return;
      } else if (e.status === 409) {
        // The same photo twice (a frozen camera): take new ones.
        await sleep(250);
      } else if (!(e instanceof ApiError)) {
        // The reader failed (not the service): photos for the rest of this sign-in.
        console.warn('holoid reader:', e);
        readerStop();
        reader.ready = Promise.resolve(false);
        window.holoidReader = 'photos';
      } else {
        watch.on = false;
        fail(e);
        return;
      }
    }
  }
}

function stopWatching() {
  watch.on = false;
}

// The unattended kiosk: full screen, the camera always on, no button. Each decision is
// shown for a few seconds in big Korean and English, then the kiosk waits for the next
// person. Its token can only check (the service enforces it).
const KIOSK = {
  scanning: ['모바일 신분증 화면을 카메라에 보여 주세요', 'Show your mobile ID screen to the camera'],
  steady: ['휴대폰을 움직이지 말고 조금 더 가까이 대 주세요', 'Hold the phone steady, a little closer'],
  genuine: ['확인되었습니다', 'Verified — thank you'],
  forgery: ['확인할 수 없습니다. 직원에게 문의하세요', 'Not accepted. Please ask a member of staff'],
  camera: ['카메라를 사용할 수 없습니다. 직원에게 문의하세요', 'The camera is not available. Please ask a member of staff'],
};
const KIOSK_SHOW_MS = 5000;

function kioskSay(state) {
  const box = $('kiosk-say');
  box.dataset.state = state;
  const [ko, en] = KIOSK[state === 'retake' ? 'steady' : state];
  $('kiosk-ko').textContent = ko;
  $('kiosk-en').textContent = en;
}

let kioskRunning = false;

async function kiosk() {
  if (kioskRunning) return;
  kioskRunning = true;
  try {
    await kioskLoop();
  } finally {
    kioskRunning = false;
  }
}

async function kioskLoop() {
  document.body.classList.add('kiosk-mode');
  kioskSay('scanning');
  if (!stream && !(await startCamera($('kiosk-video')))) {
    kioskSay('camera');
    return;
  }
  const guide = document.querySelector('#view-kiosk .guide');
  while (me && me.view === 'kiosk') {
    let decided = null;
    await watchCamera(
      guide,
      (r) => kioskSay(r ? 'retake' : 'scanning'),
      async (v, ms) => {
        decided = v.decision;
        window.holoidTimeToVerdict = ms;
        kioskSay(v.decision);
        $('kiosk-say').dataset.check = v.check_id;
      },
      // A card the service does not know is not accepted either, and the kiosk goes on to the
      // next person (it used to stop there until someone signed in again).
      async (ms) => {
        decided = 'forgery';
        window.holoidTimeToVerdict = ms;
        kioskSay('forgery');
        delete $('kiosk-say').dataset.check;
      },
    );
    if (!decided) return;
    await sleep(KIOSK_SHOW_MS);
    guide.classList.remove('found');
    kioskSay('scanning');
  }
}

// The words of the shown check in the page's language (again when the language changes).
function labelCheck() {
  const v = lastCheck;
  if (!v) return;
  const verdict = $('verdict');
  verdict.textContent = t(v.decision);
  verdict.className = `verdict ${v.decision}`;
  verdict.dataset.decision = v.decision;
  const meta = $('verdict-meta');
  meta.textContent = t('checked_in', v.ms, v.n) + (v.read_here ? ` · ${t('read_here')}` : '');
  meta.dataset.read = v.read_here ? 'here' : 'server';
  const st = $('verdict-status');
  const cs = v.credential_status;
  st.hidden = !cs;
  if (cs) {
    st.textContent = t('card_status', t(`st_${cs.status}`), cs.device_epoch);
    st.className = cs.status === 'valid' ? 'status ok' : 'status broken';
    st.dataset.status = cs.status;
  }
  labelHolder(v);
  const said = $('match-said');
  if (!said.hidden) said.textContent = said.dataset.matches === 'true' ? t('match_said_yes') : t('match_said_no');
}

async function showVerdict(v, ms, n) {
  lastCheck = Object.assign({}, v, { ms, n });
  $('match-said').hidden = true;
  labelCheck();
  const list = $('reasons');
  list.textContent = '';
  const seen = new Set();
  for (const r of v.reasons) {
    // The same finding on several frames of a burst is said once, in the words of its first
    // frame (the frames' own times make the sentences differ: 'the card's pattern is from
    // 01:57:15 UTC, …' three times was one finding).
    const key = r.frame === null ? `burst|${r.message}` : `frame|${r.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const li = document.createElement('li');
    li.className = r.outcome;
    li.dataset.code = r.code;
    li.textContent = r.message;
    list.appendChild(li);
  }
  $('copy-form').hidden = v.decision !== 'genuine' || me.view !== 'identity';
  $('result').hidden = false;
  $('result').scrollIntoView({ block: 'start' });
  await showHolder(v);
}

let portraitUrl = null;

// The holder panel of a genuine check: the registered portrait (the service's record, not
// the photo) large, beside the straightened card; the registered record (identity) or only
// the age (age); the officer's answer, does the person match.
async function showHolder(v) {
  const panel = $('holder');
  panel.hidden = true;
  panel.dataset.check = v.check_id;
  if (portraitUrl) URL.revokeObjectURL(portraitUrl);
  portraitUrl = null;
  $('portrait').removeAttribute('src');
  $('card-box').hidden = true;
  $('match-said').hidden = true;
  ['match-yes', 'match-no'].forEach((id) => { $(id).disabled = false; });
  if (v.decision !== 'genuine' || !v.portrait_url) return;
  labelHolder(v);
  panel.hidden = false;
  try {
    portraitUrl = URL.createObjectURL(await (await api(v.portrait_url)).blob());
    $('portrait').src = portraitUrl;
    $('portrait').alt = t('registered_photo');
  } catch (e) { fail(e); }
  if (me.view === 'identity') {
    try {
      const blob = v.card_png ? new Blob([v.card_png], { type: 'image/png' })
        : await (await api(`/v1/checks/${v.check_id}/card.png`)).blob();
      $('card').src = URL.createObjectURL(blob);
      $('card').alt = t('photographed_card');
      $('card-box').hidden = false;
    } catch (e) { /* the card image is optional */ }
  }
}

// The holder's registered record (identity) or age (age), in the page's language.
function labelHolder(v) {
  const record = $('holder-record');
  record.textContent = '';
  const h = v.holder;
  if (h) {
    const facts = [
      [t('f_name'), h.name_hangul, 'name'], [t('f_name_latin'), h.name_latin, 'name'],
      [t('f_birth'), t('age_years', h.birth_date, h.age)], [t('f_rrn'), h.resident_number_masked],
      [t('f_address'), h.address], [t('f_document'), t(`doc_${h.document}`) || h.document],
      [t('f_expires_card'), h.expires],
    ];
    for (const [label, value, cls] of facts) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      if (cls) dd.className = cls;
      record.append(dt, dd);
    }
  }
  const age = $('age-label');
  age.hidden = !v.age_check;
  if (v.age_check) {
    const a = v.age_check;
    age.textContent = a.old_enough ? t('age_ok', a.threshold) : t('age_under', a.threshold);
    age.className = `age-label ${a.old_enough ? 'old-enough' : 'too-young'}`;
    age.dataset.oldEnough = String(a.old_enough);
  }
}

async function answerHolder(matches) {
  const id = $('holder').dataset.check;
  try {
    await api(`/v1/checks/${id}/holder`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ matches }),
    });
    ['match-yes', 'match-no'].forEach((b) => { $(b).disabled = true; });
    const said = $('match-said');
    said.textContent = matches ? t('match_said_yes') : t('match_said_no');
    said.className = matches ? 'status ok' : 'status broken';
    said.dataset.matches = String(matches);
    said.hidden = false;
  } catch (e) { fail(e); }
}

function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

async function storeCopy(purpose) {
  try {
    // A check the reader measured here left no photo on the server: the copy's card is the
    // one straightened here, sent now and only now.
    const card = lastCheck.card_png ? { card_png: base64(lastCheck.card_png) } : {};
    const body = JSON.stringify(Object.assign({ check_id: lastCheck.check_id, purpose }, card));
    const c = await (await api('/v1/copies', {
      method: 'POST', body, headers: { 'Content-Type': 'application/json' },
    })).json();
    say(t('copy_stored'), false);
    location.hash = `#copy/${c.id}`;
  } catch (e) { fail(e); }
}

function row(table, cells, header = false) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement(header ? 'th' : 'td');
    td.textContent = c;
    tr.appendChild(td);
  }
  table.appendChild(tr);
  return tr;
}

async function showCopy(id) {
  const img = $('copy-image');
  const table = $('copy-details');
  table.textContent = '';
  img.removeAttribute('src');
  const c = await (await api(`/v1/copies/${id}`)).json();
  const blob = await (await api(`/v1/copies/${id}/image.png`)).blob();
  img.src = URL.createObjectURL(blob);
  img.alt = `${t('copy_title')} ${c.id}`;
  const r = c.record;
  const details = [
    [t('f_office'), r.office], [t('f_officer'), r.officer], [t('f_time'), r.created_at],
    [t('f_purpose'), r.purpose], [t('f_credential'), r.credential_id], [t('f_copy'), r.copy_id],
    [t('f_expires'), r.expires_at],
    [t('f_signature'), `${c.signature_valid ? t('sig_ok') : t('sig_bad')} (Ed25519 ${c.public_key.slice(0, 16)}…)`],
  ];
  for (const d of details) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = d[0];
    const td = document.createElement('td');
    td.textContent = d[1];
    tr.append(th, td);
    table.appendChild(tr);
  }
  table.dataset.signature = c.signature_valid ? 'valid' : 'invalid';
}

async function showCopies(before) {
  const body = $('copies-body');
  if (!before) body.textContent = '';
  const q = before ? `&before=${before}` : '';
  const page = await (await api(`/v1/copies?limit=20${q}`)).json();
  for (const c of page.copies) {
    const tr = row(body, [c.record.created_at, c.record.purpose, c.record.officer, c.expires_at]);
    tr.dataset.copy = c.id;
    const a = document.createElement('a');
    a.href = `#copy/${c.id}`;
    a.textContent = c.record.created_at;
    tr.firstChild.textContent = '';
    tr.firstChild.appendChild(a);
  }
  if (!before && page.copies.length === 0) row(body, [t('no_copies'), '', '', '']);
  olderBefore = page.next_before;
  $('older').hidden = !olderBefore;
}

async function showAudit() {
  const log = await (await api('/v1/audit?limit=1000')).json();
  const status = $('audit-status');
  const v = log.verification;
  status.textContent = v.ok ? t('audit_ok', v.entries) : t('audit_broken', v.problem);
  status.className = v.ok ? 'status ok' : 'status broken';
  const body = $('audit-body');
  body.textContent = '';
  for (const e of log.entries) row(body, [e.seq, e.at, e.action, e.office, e.subject]);
}

/// The loss desk: a credential's status and history, and the changes this role may make.
async function showStatus(id) {
  const s = await (await api(`/v1/credentials/${encodeURIComponent(id)}/status`)).json();
  if ($('status-card').dataset.credential !== s.credential_id) {
    stopOffer();
    $('offer').hidden = true;
  }
  $('issue').disabled = s.status === 'revoked';
  const now = $('status-now');
  now.textContent = t('status_now', s.credential_id, t(`st_${s.status}`), s.device_epoch, s.changed_at);
  now.className = s.status === 'valid' ? 'status ok' : 'status broken';
  now.dataset.status = s.status;
  $('status-suspend').disabled = s.status !== 'valid';
  $('status-resume').disabled = s.status !== 'suspended';
  $('status-revoke').hidden = me.role !== 'admin';
  $('status-revoke').disabled = s.status === 'revoked';
  const body = $('status-history');
  body.textContent = '';
  for (const e of s.history.slice().reverse()) {
    row(body, [e.at, e.epoch, t(`st_${e.status}`), e.reason, e.office]);
  }
  $('status-card').hidden = false;
  $('status-card').dataset.credential = s.credential_id;
}

async function changeStatus(verb) {
  const id = $('status-card').dataset.credential;
  const reason = $('status-reason').value.trim();
  if (!reason) { say(t('need_reason')); return; }
  await api(`/v1/credentials/${encodeURIComponent(id)}/${verb}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ reason }),
  });
  $('status-reason').value = '';
  say('');
  await showStatus(id);
}

/// The issuance desk: a one-time offer shown as a big QR code, its countdown, and the moment
/// the phone has taken it.
let offerTimer = null;
let offerUrl = null;

function stopOffer() {
  if (offerTimer) clearInterval(offerTimer);
  offerTimer = null;
  if (offerUrl) URL.revokeObjectURL(offerUrl);
  offerUrl = null;
}

async function issueOffer() {
  stopOffer();
  const id = $('status-card').dataset.credential;
  const o = await (await api(`/v1/credentials/${encodeURIComponent(id)}/offers`, { method: 'POST' })).json();
  offerUrl = URL.createObjectURL(await (await api(o.qr_url)).blob());
  $('offer-qr').src = offerUrl;
  $('offer-qr').alt = o.offer;
  $('offer-qr').className = '';
  $('offer-text').textContent = o.offer;
  $('offer').hidden = false;
  const deadline = Date.now() + o.expires_in_s * 1000;
  const show = (state, text) => {
    const s = $('offer-state');
    s.dataset.state = state;
    s.textContent = text;
    s.className = state === 'enrolled' ? 'status ok' : state === 'expired' ? 'status broken' : 'status';
  };
  show('pending', t('offer_pending', o.expires_in_s));
  let asking = false;
  offerTimer = setInterval(async () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (asking) return;
    asking = true;
    try {
      const now = await (await api(`/v1/offers/${o.offer_id}`)).json();
      if (now.state === 'pending') {
        show('pending', t('offer_pending', left));
        return;
      }
      stopOffer();
      $('offer-qr').className = 'closed';
      $('offer-text').textContent = '';
      if (now.state === 'enrolled') {
        show('enrolled', t('offer_enrolled', now.device_epoch));
        await showStatus(id);
      } else {
        show('expired', t('offer_expired'));
      }
    } catch (e) {
      stopOffer();
      fail(e);
    } finally {
      asking = false;
    }
  }, 1000);
}

async function route() {
  const hash = location.hash.replace(/^#/, '');
  if (!me) {
    show('signin');
    return;
  }
  if (me.view === 'kiosk') {
    show('kiosk');
    kiosk();
    return;
  }
  const [view, id] = hash.split('/');
  // The camera's checks stop when the officer leaves the check view.
  if (view !== 'check' && view !== '') stopWatching();
  if (view !== 'status') {
    stopOffer();
    $('offer').hidden = true;
  }
  try {
    if (me.view !== 'identity' && view !== 'check') {
      show('check');
    } else if (view === 'copy' && id) {
      show('copy');
      await showCopy(id);
    } else if (view === 'copies') {
      show('copies');
      await showCopies();
    } else if (view === 'status') {
      show('status');
      if (id) await showStatus(decodeURIComponent(id));
    } else if (view === 'audit') {
      show('audit');
      await showAudit();
    } else {
      show('check');
    }
  } catch (e) { fail(e); }
}

window.addEventListener('DOMContentLoaded', async () => {
  applyLanguage();
  $('lang').addEventListener('click', () => {
    lang = lang === 'ko' ? 'en' : 'ko';
    sessionStorage.setItem('holoid-lang', lang);
    applyLanguage();
    if (me) $('who').textContent = t('signed_in', me.role, me.office, me.name, viewName());
    labelCheck();
  });
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    try {
      await signIn(token);
      if (!location.hash || location.hash === '#signin') location.hash = '#check';
      await route();
    } catch (e) { fail(e); }
  });
  $('signout').addEventListener('click', () => signOut());
  $('camera-start').addEventListener('click', counterWatch);
  $('capture').addEventListener('click', counterWatch);
  $('files').addEventListener('change', async (ev) => {
    const files = Array.from(ev.target.files);
    ev.target.value = '';
    stopWatching();
    if (files.length) await check(files.map((f) => ({ blob: f, at: f.lastModified })));
  });
  $('copy-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    storeCopy($('purpose').value.trim());
  });
  $('print').addEventListener('click', () => window.print());
  $('match-yes').addEventListener('click', () => answerHolder(true));
  $('match-no').addEventListener('click', () => answerHolder(false));
  $('status-find').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#status/${encodeURIComponent($('status-id').value.trim())}`;
  });
  $('issue').addEventListener('click', () => issueOffer().catch(fail));
  for (const verb of ['suspend', 'resume', 'revoke']) {
    $(`status-${verb}`).addEventListener('click', () => changeStatus(verb).catch(fail));
  }
  $('older').addEventListener('click', () => showCopies(olderBefore).catch(fail));
  window.addEventListener('hashchange', route);
  const saved = sessionStorage.getItem('holoid-token');
  if (saved) {
    try { await signIn(saved); } catch (e) { fail(e); }
  }
  route();
});
