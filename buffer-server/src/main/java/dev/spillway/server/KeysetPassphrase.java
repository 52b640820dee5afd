package dev.spillway.server;

import dev.spillway.core.keys.KeysetProtection;
import dev.spillway.core.keys.LocalKeys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Where the passphrase of a protected local reader keyset comes from: a file (the configuration's
 * {@code reader_keyset_passphrase_file} or the CLI's {@code --passphrase-file}), else the
 * environment variable {@value #ENV}. The passphrase is never logged; a file that group or others
 * may access at all is refused (mode 0600 or 0400 expected).
 */
final class KeysetPassphrase {
  static final String ENV = "SPILLWAY_READER_KEYSET_PASSPHRASE";

  private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  private KeysetPassphrase() {}

  /**
   * The protection to open {@code readerKeyset} with. A passphrase file given for a keyset that is
   * not encrypted is an error (someone believes it is protected); the environment variable is then
   * ignored with a warning, since one environment may serve several processes. An encrypted keyset
   * without any passphrase is an error.
   */
  static KeysetProtection forReader(Path readerKeyset, Optional<Path> passphraseFile,
      Function<String, String> env, Consumer<String> warn) throws IOException {
    boolean encrypted = LocalKeys.isEncrypted(readerKeyset);
    if (passphraseFile.isPresent()) {
      if (!encrypted) {
        throw new IOException("the reader keyset " + readerKeyset
            + " is not encrypted, but a passphrase file was given (protect it with 'keys init --passphrase-file')");
      }
      return fromFile(passphraseFile.get(), warn);
    }
    String fromEnv = env.apply(ENV);
    if (fromEnv != null && !fromEnv.isEmpty()) {
      if (!encrypted) {
        warn.accept(ENV + " is set but the reader keyset " + readerKeyset + " is not encrypted; ignored");
        return KeysetProtection.none();
      }
      return passphrase(fromEnv.toCharArray(), ENV);
    }
    if (encrypted) {
      throw new IOException("the reader keyset " + readerKeyset + " is encrypted: give its passphrase"
          + " (reader_keyset_passphrase_file, --passphrase-file, or " + ENV + ")");
    }
    return KeysetProtection.none();
  }

  /**
   * Reads a passphrase file: UTF-8, one trailing newline removed. Refuses it, before reading a
   * byte, if group or others have any permission on it: a passphrase others could read protects
   * nothing, and fixing the mode is one chmod.
   */
  static KeysetProtection fromFile(Path file, Consumer<String> warn) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("the passphrase file " + file + " does not exist");
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.stream().anyMatch(GROUP_OR_OTHER::contains)) {
        throw new IOException("the passphrase file " + file + " has mode "
            + java.nio.file.attribute.PosixFilePermissions.toString(perms)
            + ", readable by group or others; refused (run: chmod 600 " + file + ")");
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to check
    }
    byte[] raw = Files.readAllBytes(file);
    int len = raw.length;
    if (len > 0 && raw[len - 1] == '\n') {
      len--;
      if (len > 0 && raw[len - 1] == '\r') {
        len--;
      }
    }
    char[] chars;
    try {
      CharBuffer cb = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(raw, 0, len));
      chars = new char[cb.remaining()];
      cb.get(chars);
      Arrays.fill(cb.array(), '\0');
    } catch (CharacterCodingException e) {
      throw new IOException("the passphrase file " + file + " is not UTF-8");
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
    return passphrase(chars, "the passphrase file " + file);
  }

  private static KeysetProtection passphrase(char[] chars, String source) throws IOException {
    try {
      return KeysetProtection.passphrase(chars);
    } catch (IllegalArgumentException e) {
      throw new IOException(source + ": " + e.getMessage());
    } finally {
      Arrays.fill(chars, '\0');
    }
  }
}
