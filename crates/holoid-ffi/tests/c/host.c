/* A wallet app's use of holoid through the C ABI, offscreen: run by tests/c_host.rs, which
 * builds it against include/holoid.h and libholoid, then checks the frames it writes.
 *
 * usage: host CREDENTIAL PORTRAIT DEVICE_KEY WRONG_KEY CORRUPT_CREDENTIAL OUT_DIR T1_MS T2_MS
 * Writes OUT_DIR/frame-1.rgba (at T1, tilted), frame-2.rgba (at T2, another window) and
 * frame-blocked.rgba (at T2, while recording), each 540 x 1170 RGBA. Prints
 * "N checks, M failures" and exits 1 if any check failed. */
#include "check.h"

#include <math.h>

enum { WIDTH = 540, HEIGHT = 1170 };

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s CREDENTIAL PORTRAIT DEVICE_KEY WRONG_KEY CORRUPT OUT_DIR T1_MS T2_MS\n", argv[0]);
    return 2;
  }
  size_t cred_len, portrait_len, key_len, wrong_len, corrupt_len;
  unsigned char *cred = read_file(argv[1], &cred_len);
  unsigned char *portrait = read_file(argv[2], &portrait_len);
  unsigned char *key = read_file(argv[3], &key_len);
  unsigned char *wrong = read_file(argv[4], &wrong_len);
  unsigned char *corrupt = read_file(argv[5], &corrupt_len);
  const char *out_dir = argv[6];
  uint64_t t1 = strtoull(argv[7], NULL, 10);
  uint64_t t2 = strtoull(argv[8], NULL, 10);

  CHECK(strlen(holoid_version()) > 0, "empty version");
  HoloidOptions options = holoid_options_default();
  CHECK(options.width == 1080 && options.height == 2340 && options.window_period_secs == 5,
        "unexpected defaults %ux%u, %u s", options.width, options.height, options.window_period_secs);
  options.width = WIDTH;
  options.height = HEIGHT;

  /* Bad input: each refused with its own status and a message; *engine stays NULL. */
  HoloidEngine *engine = (HoloidEngine *)&checks; /* not NULL: the call must reset it */
  EXPECT(holoid_engine_new(NULL, cred_len, portrait, portrait_len, key, key_len, &options, &engine),
         HOLOID_STATUS_NULL_POINTER);
  CHECK(engine == NULL, "engine not reset to NULL on failure");
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, key, key_len, &options, NULL),
         HOLOID_STATUS_NULL_POINTER);
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, wrong, wrong_len, &options, &engine),
         HOLOID_STATUS_KEY_MISMATCH);
  EXPECT_ERROR_MENTIONS("does not belong to this credential");
  CHECK(engine == NULL, "engine set on a key mismatch");
  EXPECT(holoid_engine_new(corrupt, corrupt_len, portrait, portrait_len, key, key_len, &options, &engine),
         HOLOID_STATUS_BAD_CREDENTIAL);
  EXPECT_ERROR_MENTIONS("credential");
  EXPECT(holoid_engine_new(cred, cred_len, (const uint8_t *)"not a png", 9, key, key_len, &options, &engine),
         HOLOID_STATUS_BAD_PORTRAIT);
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, (const uint8_t *)"hello", 5, &options, &engine),
         HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT(holoid_engine_new(cred, 0, portrait, portrait_len, key, key_len, &options, &engine),
         HOLOID_STATUS_INVALID_ARGUMENT);
  HoloidOptions bad = options;
  bad.window_period_secs = 0;
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, key, key_len, &bad, &engine),
         HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("period");
  bad = options;
  bad.width = 0;
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, key, key_len, &bad, &engine),
         HOLOID_STATUS_INVALID_ARGUMENT);

  /* Handles that are not engines. */
  EXPECT(holoid_engine_render_rgba(NULL, t1, NULL, 0), HOLOID_STATUS_NULL_POINTER);
  EXPECT(holoid_engine_set_capture_state((HoloidEngine *)(uintptr_t)0xdeadbeef, HOLOID_CAPTURE_NONE),
         HOLOID_STATUS_INVALID_HANDLE);
  EXPECT(holoid_engine_free(NULL), HOLOID_STATUS_OK);

  /* The real engine. */
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, key, key_len, &options, &engine),
         HOLOID_STATUS_OK);
  CHECK(engine != NULL, "no engine");

  /* The phone lies still, then is tilted by 25 degrees about its y axis: 50 Hz samples. */
  double t0 = (double)t1 / 1000.0 - 3.0;
  for (int i = 0; i < 50; i++) {
    EXPECT(holoid_engine_push_motion(engine, t0 + i * 0.02, 0.0f, 0.0f, 9.81f), HOLOID_STATUS_OK);
  }
  const double tilt = 25.0 * 3.14159265358979 / 180.0;
  for (int i = 50; i < 150; i++) {
    EXPECT(holoid_engine_push_motion(engine, t0 + i * 0.02, (float)(9.81 * sin(tilt)), 0.0f,
                                     (float)(9.81 * cos(tilt))),
           HOLOID_STATUS_OK);
  }
  EXPECT(holoid_engine_push_motion(engine, t0, 0.0f, 0.0f, 9.81f), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT_ERROR_MENTIONS("motion sample");
  EXPECT(holoid_engine_push_motion(engine, t0 + 10.0, NAN, 0.0f, 9.81f), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT(holoid_engine_set_capture_state(engine, 7), HOLOID_STATUS_INVALID_ARGUMENT);

  size_t frame_len = (size_t)WIDTH * HEIGHT * 4;
  unsigned char *a = malloc(frame_len);
  unsigned char *b = malloc(frame_len);
  unsigned char *blocked = malloc(frame_len);
  if (!a || !b || !blocked) return 2;
  EXPECT(holoid_engine_render_rgba(engine, t1, a, frame_len - 1), HOLOID_STATUS_BUFFER_SIZE);
  EXPECT_ERROR_MENTIONS("needs");
  EXPECT(holoid_engine_render_rgba(engine, t1, NULL, frame_len), HOLOID_STATUS_NULL_POINTER);
  EXPECT(holoid_engine_render(engine, t1), HOLOID_STATUS_NO_SURFACE);
  EXPECT(holoid_engine_render_rgba(engine, t1, a, frame_len), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_render_rgba(engine, t2, b, frame_len), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_set_capture_state(engine, HOLOID_CAPTURE_RECORDING), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_render_rgba(engine, t2, blocked, frame_len), HOLOID_STATUS_OK);
  CHECK(memcmp(a, b, frame_len) != 0, "frames of two windows are identical");

  HoloidMemory memory = {0};
  EXPECT(holoid_engine_memory(engine, &memory), HOLOID_STATUS_OK);
  CHECK(memory.gpu_bytes > frame_len, "GPU memory %llu bytes", (unsigned long long)memory.gpu_bytes);
  EXPECT(holoid_engine_memory(engine, NULL), HOLOID_STATUS_NULL_POINTER);

  write_file(out_dir, "frame-1.rgba", a, frame_len);
  write_file(out_dir, "frame-2.rgba", b, frame_len);
  write_file(out_dir, "frame-blocked.rgba", blocked, frame_len);

  /* Freed: the handle is dead, and nothing is touched. */
  EXPECT(holoid_engine_free(engine), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_free(engine), HOLOID_STATUS_INVALID_HANDLE);
  EXPECT(holoid_engine_render_rgba(engine, t1, a, frame_len), HOLOID_STATUS_INVALID_HANDLE);
  EXPECT_ERROR_MENTIONS("not a live engine");

  free(a);
  free(b);
  free(blocked);
  free(cred);
  free(portrait);
  free(key);
  free(wrong);
  free(corrupt);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
