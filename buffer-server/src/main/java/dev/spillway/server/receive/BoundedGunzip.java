package dev.spillway.server.receive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * gzip inflation that stops at a limit: a 10 KiB "gzip bomb" that inflates to gigabytes costs at
 * most {@code limit + 8 KiB} of memory before it is refused.
 */
final class BoundedGunzip {
  /** The inflated body would exceed the limit. */
  static final class TooLarge extends Exception {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super(null, null, false, false);
    }
  }

  private BoundedGunzip() {}

  static byte[] inflate(InputStream compressed, long limit) throws IOException, TooLarge {
    try (GZIPInputStream in = new GZIPInputStream(compressed, 8192)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
      byte[] buf = new byte[8192];
      long total = 0;
      int n;
      while ((n = in.read(buf)) > 0) {
        total += n;
        if (total > limit) {
          throw new TooLarge();
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (ZipException | java.io.EOFException e) {
      throw new IOException("the body is not valid gzip");
    }
  }
}
