package dev.spillway.core.internal.spill;

/**
 * The log's structure cannot be read at the reader's place: a damaged or edited file (a header
 * length pointing outside the file, a document the storage library fails on). Unchecked, because
 * it comes out of the storage library's own reads; the reader counts it and moves on to a later
 * segment.
 */
public final class UnreadableSpillException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UnreadableSpillException(String message, Throwable cause) {
    super(message, cause);
  }
}
