/* A wallet app enrolling by QR offer and drawing with a key that stays in its keystore,
 * through the C ABI: run by tests/c_host.rs against a real verifier service.
 *
 * usage: wallet HOST PORT OFFER ISSUER_PUB_HEX OUT_DIR T_MS
 * 1. holoid_enrol_new with the offer, the request body, POST /v1/enrol over a plain socket
 *    (the app's own HTTP), holoid_enrol_finish, the credential and portrait read back;
 * 2. the device key handed once to the "keystore" below (OpenSSL's HMAC standing in for
 *    Android Keystore / the iOS keychain), then drawn with through the key provider callback;
 * 3. a locked keystore: HOLOID_STATUS_KEYSTORE and a blank frame.
 * Writes OUT_DIR/credential.json, portrait.png, frame-keystore.rgba and frame-locked.rgba
 * (540 x 1170 RGBA). Prints "N checks, M failures" and exits 1 if any check failed. */
#define _POSIX_C_SOURCE 200112L
#include "check.h"

#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

enum { WIDTH = 540, HEIGHT = 1170 };

/* The keystore: the key lives here, never in holoid. */
static unsigned char keystore_key[32];
static int keystore_locked = 0;
static int keystore_calls = 0;

static int32_t keystore_hmac(void *context, const uint8_t *message, size_t message_len, uint8_t *out) {
  (void)context;
  keystore_calls++;
  if (keystore_locked) return -1;
  unsigned int n = 32;
  return HMAC(EVP_sha256(), keystore_key, 32, message, message_len, out, &n) && n == 32 ? 0 : -2;
}

/* Another key: the wrong keystore entry. */
static int32_t other_hmac(void *context, const uint8_t *message, size_t message_len, uint8_t *out) {
  unsigned char *key = context;
  unsigned int n = 32;
  return HMAC(EVP_sha256(), key, 32, message, message_len, out, &n) ? 0 : -2;
}

/* POSTs a JSON body over HTTP/1.1; returns the status and the body (malloc'd). */
static int post(const char *host, const char *port, const char *path, const unsigned char *body, size_t body_len,
                unsigned char **answer, size_t *answer_len) {
  struct addrinfo hints = {0}, *ai;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &ai) != 0) return -1;
  int s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
  if (s < 0 || connect(s, ai->ai_addr, ai->ai_addrlen) != 0) return -1;
  freeaddrinfo(ai);
  char head[512];
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   path, host, port, body_len);
  if (write(s, head, (size_t)n) != n || write(s, body, body_len) != (ssize_t)body_len) return -1;
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (len == cap) buf = realloc(buf, cap *= 2);
    ssize_t r = read(s, buf + len, cap - len);
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(s);
  int status = 0;
  if (len < 12 || sscanf((char *)buf, "HTTP/1.1 %d", &status) != 1) return -1;
  unsigned char *start = NULL;
  for (size_t i = 0; i + 3 < len; i++) {
    if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
      start = buf + i + 4;
      break;
    }
  }
  if (!start) return -1;
  *answer_len = len - (size_t)(start - buf);
  *answer = malloc(*answer_len + 1);
  memcpy(*answer, start, *answer_len);
  (*answer)[*answer_len] = 0;
  free(buf);
  return status;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s HOST PORT OFFER ISSUER_PUB_HEX OUT_DIR T_MS\n", argv[0]);
    return 2;
  }
  const char *host = argv[1], *port = argv[2], *offer = argv[3], *out_dir = argv[5];
  uint64_t t = strtoull(argv[6], NULL, 10);
  uint8_t issuer[32];
  for (int i = 0; i < 32; i++) sscanf(argv[4] + 2 * i, "%2hhx", &issuer[i]);

  /* 1. Enrol. */
  HoloidEnrolment *e = (HoloidEnrolment *)&checks;
  EXPECT(holoid_enrol_new((const uint8_t *)"HOLOID:OFFER1:nope", 18, &e), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("not an enrolment offer");
  CHECK(e == NULL, "enrolment not reset to NULL on failure");
  EXPECT(holoid_enrol_new((const uint8_t *)offer, strlen(offer), &e), HOLOID_STATUS_OK);
  size_t len = 0;
  EXPECT(holoid_enrol_request(e, NULL, 0, &len), HOLOID_STATUS_BUFFER_SIZE);
  CHECK(len > 60 && len < 400, "request length %zu", len);
  unsigned char *request = malloc(len);
  EXPECT(holoid_enrol_request(e, request, len, &len), HOLOID_STATUS_OK);
  EXPECT(holoid_enrol_credential(e, NULL, 0, &len), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("not finished");

  unsigned char *answer = NULL;
  size_t answer_len = 0;
  int status = post(host, port, "/v1/enrol", request, len, &answer, &answer_len);
  CHECK(status == 201, "POST /v1/enrol answered %d: %s", status, answer ? (char *)answer : "");
  if (status != 201) {
    printf("%d checks, %d failures\n", checks, failures);
    return 1;
  }
  /* Another phone's key pair cannot open this answer. */
  HoloidEnrolment *stranger = NULL;
  EXPECT(holoid_enrol_new((const uint8_t *)offer, strlen(offer), &stranger), HOLOID_STATUS_OK);
  EXPECT(holoid_enrol_finish(stranger, answer, answer_len, issuer), HOLOID_STATUS_UNOPENABLE);
  EXPECT(holoid_enrol_free(stranger), HOLOID_STATUS_OK);
  EXPECT(holoid_enrol_finish(e, answer, answer_len / 2, issuer), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT(holoid_enrol_finish(e, answer, answer_len, issuer), HOLOID_STATUS_OK);

  size_t cred_len = 0, portrait_len = 0;
  EXPECT(holoid_enrol_credential(e, NULL, 0, &cred_len), HOLOID_STATUS_BUFFER_SIZE);
  unsigned char *cred = malloc(cred_len);
  EXPECT(holoid_enrol_credential(e, cred, cred_len, &cred_len), HOLOID_STATUS_OK);
  EXPECT(holoid_enrol_portrait(e, NULL, 0, &portrait_len), HOLOID_STATUS_BUFFER_SIZE);
  unsigned char *portrait = malloc(portrait_len);
  EXPECT(holoid_enrol_portrait(e, portrait, portrait_len, &portrait_len), HOLOID_STATUS_OK);
  write_file(out_dir, "credential.json", cred, cred_len);
  write_file(out_dir, "portrait.png", portrait, portrait_len);

  /* 2. The key goes to the keystore once; holoid keeps no copy. */
  EXPECT(holoid_enrol_take_device_key(e, keystore_key), HOLOID_STATUS_OK);
  unsigned char again[32];
  EXPECT(holoid_enrol_take_device_key(e, again), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("already taken");
  EXPECT(holoid_enrol_free(e), HOLOID_STATUS_OK);
  EXPECT(holoid_enrol_request(e, request, len, &len), HOLOID_STATUS_INVALID_HANDLE);

  HoloidOptions options = holoid_options_default();
  options.width = WIDTH;
  options.height = HEIGHT;
  HoloidEngine *engine = NULL;
  unsigned char wrong[32] = {1};
  EXPECT(holoid_engine_new_with_key_provider(cred, cred_len, portrait, portrait_len, NULL, NULL, &options, &engine),
         HOLOID_STATUS_NULL_POINTER);
  EXPECT(holoid_engine_new_with_key_provider(cred, cred_len, portrait, portrait_len, other_hmac, wrong, &options,
                                             &engine),
         HOLOID_STATUS_KEY_MISMATCH);
  keystore_locked = 1;
  EXPECT(holoid_engine_new_with_key_provider(cred, cred_len, portrait, portrait_len, keystore_hmac, NULL, &options,
                                             &engine),
         HOLOID_STATUS_KEYSTORE);
  EXPECT_ERROR_MENTIONS("key provider callback returned -1");
  keystore_locked = 0;
  keystore_calls = 0;
  EXPECT(holoid_engine_new_with_key_provider(cred, cred_len, portrait, portrait_len, keystore_hmac, NULL, &options,
                                             &engine),
         HOLOID_STATUS_OK);
  CHECK(keystore_calls == 1, "the commitment check called the keystore %d times", keystore_calls);
  size_t frame_len = (size_t)WIDTH * HEIGHT * 4;
  unsigned char *frame = malloc(frame_len);
  EXPECT(holoid_engine_render_rgba(engine, t, frame, frame_len), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_render_rgba(engine, t + 40, frame, frame_len), HOLOID_STATUS_OK);
  CHECK(keystore_calls == 2, "one window took %d keystore calls (want 1 more)", keystore_calls);
  write_file(out_dir, "frame-keystore.rgba", frame, frame_len);

  /* 3. Locked in the next window: a blank frame and a status that says why. */
  keystore_locked = 1;
  EXPECT(holoid_engine_render_rgba(engine, t + 5000, frame, frame_len), HOLOID_STATUS_KEYSTORE);
  EXPECT_ERROR_MENTIONS("drawn blank");
  write_file(out_dir, "frame-locked.rgba", frame, frame_len);
  keystore_locked = 0;
  EXPECT(holoid_engine_render_rgba(engine, t + 5040, frame, frame_len), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_free(engine), HOLOID_STATUS_OK);
  memset(keystore_key, 0, sizeof keystore_key);

  free(request);
  free(answer);
  free(cred);
  free(portrait);
  free(frame);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
