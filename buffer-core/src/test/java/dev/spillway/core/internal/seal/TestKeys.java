package dev.spillway.core.internal.seal;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.LocalKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** A local HPKE key pair in a directory, with both halves loaded. */
public record TestKeys(Path dir, DataKeyIssuer issuer, DataKeyUnwrapper unwrapper) {
  public static TestKeys in(Path dir) {
    try {
      LocalKeys.init(dir);
      return new TestKeys(
          dir,
          LocalKeys.issuer(dir.resolve(LocalKeys.WRITER_FILE)),
          LocalKeys.unwrapper(dir.resolve(LocalKeys.READER_FILE)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
