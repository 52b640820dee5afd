package dev.spillway.core.internal.seal;

import java.io.IOException;

/**
 * A persisted stream-watermark table cannot be read. Fail closed: a drain that forgot its
 * watermarks would accept replayed records again. The message names the source and the fault.
 */
public final class WatermarkFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public WatermarkFormatException(String message) {
    super(message);
  }
}
