/* A wallet app's use of holoid through the C ABI with a native window: an X11 window
 * (Xlib), the way a Linux host attaches one; Android's ANativeWindow and Apple's
 * CAMetalLayer go through the same functions. Run by tests/c_host.rs under Xvfb.
 *
 * usage: host_x11 CREDENTIAL PORTRAIT DEVICE_KEY T_MS
 * Prints "N checks, M failures" and exits 1 if any check failed. */
#include "check.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>

/* Share of the window's pixels that are dark (the corner marks, text, code modules) and
 * light (the card's paper): a drawn card has plenty of both. */
static void shades(Display *dpy, Window w, unsigned width, unsigned height, double *dark, double *light) {
  XImage *img = XGetImage(dpy, w, 0, 0, width, height, AllPlanes, ZPixmap);
  *dark = *light = 0.0;
  if (!img) return;
  unsigned long n = 0, nd = 0, nl = 0;
  for (unsigned y = 0; y < height; y += 2) {
    for (unsigned x = 0; x < width; x += 2) {
      unsigned long p = XGetPixel(img, (int)x, (int)y);
      unsigned r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
      unsigned luma = (299 * r + 587 * g + 114 * b) / 1000;
      n++;
      if (luma < 70) nd++;
      if (luma > 170) nl++;
    }
  }
  XDestroyImage(img);
  *dark = (double)nd / (double)n;
  *light = (double)nl / (double)n;
}

static void draw_frames(HoloidEngine *engine, Display *dpy, uint64_t t, int n) {
  for (int i = 0; i < n; i++) {
    EXPECT(holoid_engine_render(engine, t + (uint64_t)i * 100), HOLOID_STATUS_OK);
  }
  XSync(dpy, False);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s CREDENTIAL PORTRAIT DEVICE_KEY T_MS\n", argv[0]);
    return 2;
  }
  size_t cred_len, portrait_len, key_len;
  unsigned char *cred = read_file(argv[1], &cred_len);
  unsigned char *portrait = read_file(argv[2], &portrait_len);
  unsigned char *key = read_file(argv[3], &key_len);
  uint64_t t = strtoull(argv[4], NULL, 10);

  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "cannot open the X display (run under xvfb-run)\n");
    return 2;
  }
  int screen = DefaultScreen(dpy);
  unsigned width = 360, height = 780;
  Window win = XCreateSimpleWindow(dpy, RootWindow(dpy, screen), 0, 0, width, height, 0,
                                   BlackPixel(dpy, screen), WhitePixel(dpy, screen));
  XMapWindow(dpy, win);
  XSync(dpy, False);

  HoloidEngine *engine = NULL;
  EXPECT(holoid_engine_new(cred, cred_len, portrait, portrait_len, key, key_len, NULL, &engine),
         HOLOID_STATUS_OK);
  if (!engine) return 1;

  /* Bad surfaces first. */
  HoloidSurface surface;
  memset(&surface, 0, sizeof surface);
  surface.kind = 99;
  EXPECT(holoid_engine_attach_surface(engine, &surface), HOLOID_STATUS_INVALID_ARGUMENT);
  EXPECT(holoid_engine_attach_surface(engine, NULL), HOLOID_STATUS_NULL_POINTER);
  surface.kind = HOLOID_SURFACE_XLIB;
  surface.window_id = win;
  EXPECT(holoid_engine_attach_surface(engine, &surface), HOLOID_STATUS_NULL_POINTER);
  surface.kind = HOLOID_SURFACE_METAL_LAYER;
  surface.window = &surface;
  EXPECT(holoid_engine_attach_surface(engine, &surface), HOLOID_STATUS_UNSUPPORTED);

  /* The X11 window. */
  memset(&surface, 0, sizeof surface);
  surface.kind = HOLOID_SURFACE_XLIB;
  surface.display = dpy;
  surface.window_id = win;
  surface.screen = screen;
  surface.width = width;
  surface.height = height;
  double dark, light;
  shades(dpy, win, width, height, &dark, &light);
  CHECK(dark < 0.01, "the fresh window is already dark in %.1f%%", 100 * dark);
  EXPECT(holoid_engine_attach_surface(engine, &surface), HOLOID_STATUS_OK);
  draw_frames(engine, dpy, t, 3);
  shades(dpy, win, width, height, &dark, &light);
  CHECK(dark > 0.05 && light > 0.2, "the window does not show the card: %.1f%% dark, %.1f%% light",
        100 * dark, 100 * light);

  /* While recording, the shield: a dark card without marks, text or code on paper. */
  EXPECT(holoid_engine_set_capture_state(engine, HOLOID_CAPTURE_RECORDING), HOLOID_STATUS_OK);
  draw_frames(engine, dpy, t, 2);
  double blocked_dark, blocked_light;
  shades(dpy, win, width, height, &blocked_dark, &blocked_light);
  CHECK(blocked_light < 0.05, "the blocked card still shows %.1f%% light paper", 100 * blocked_light);
  EXPECT(holoid_engine_set_capture_state(engine, HOLOID_CAPTURE_NONE), HOLOID_STATUS_OK);

  /* Rotation or a layout change: the window shrinks, the surface follows. */
  width = 300;
  height = 650;
  XResizeWindow(dpy, win, width, height);
  XSync(dpy, False);
  EXPECT(holoid_engine_resize_surface(engine, width, height), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_resize_surface(engine, 0, height), HOLOID_STATUS_SURFACE);
  EXPECT(holoid_engine_resize_surface(engine, width, height), HOLOID_STATUS_OK);
  draw_frames(engine, dpy, t + 1000, 3);
  shades(dpy, win, width, height, &dark, &light);
  CHECK(dark > 0.05 && light > 0.2, "after resizing: %.1f%% dark, %.1f%% light", 100 * dark, 100 * light);

  HoloidMemory memory = {0};
  EXPECT(holoid_engine_memory(engine, &memory), HOLOID_STATUS_OK);
  CHECK(memory.gpu_bytes > 0, "no GPU memory reported");

  /* The host destroys its window: detach first, as Android's surfaceDestroyed must. */
  EXPECT(holoid_engine_detach_surface(engine), HOLOID_STATUS_OK);
  EXPECT(holoid_engine_render(engine, t), HOLOID_STATUS_NO_SURFACE);
  EXPECT(holoid_engine_resize_surface(engine, width, height), HOLOID_STATUS_NO_SURFACE);
  XDestroyWindow(dpy, win);
  EXPECT(holoid_engine_free(engine), HOLOID_STATUS_OK);
  XCloseDisplay(dpy);
  free(cred);
  free(portrait);
  free(key);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
