package dev.spillway.core.internal.spill;

import java.io.IOException;

/**
 * The storage could not take or give a record: the disk is full (or nearly), the budget is spent,
 * or the device failed. Transient from the buffer's point of view: the batch is refused with
 * back-pressure and nothing already stored is harmed.
 */
public class SpillStorageException extends IOException {
  private static final long serialVersionUID = 1L;

  public SpillStorageException(String message) {
    super(message);
  }

  public SpillStorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
