package dev.spillway.server.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides whether a directory lives on dm-crypt by reading the mount table and the device-mapper
 * attributes the kernel exports, the way {@code lsblk} does: the mount whose mount point is the
 * longest prefix of the directory gives the source device; a device-mapper device is dm-crypt when
 * its {@code dm/uuid} starts with {@code CRYPT-} (LUKS1, LUKS2 and plain mode all do), and a
 * stacked device (LVM on LUKS) is encrypted when one of its {@code slaves} is.
 *
 * <p>Both paths are injectable so tests use fixture copies of {@code /proc/mounts} and
 * {@code /sys/block}. Stateless; safe to share.
 */
final class SpillMount {

  /** What was found, and how sure we are. */
  enum Kind {
    /** On a dm-crypt device, directly or below it. */
    ENCRYPTED,
    /** On tmpfs/ramfs: never on disk, unless memory is swapped out. */
    MEMORY,
    /** On a block device with no dm-crypt layer. */
    PLAIN,
    /** Network, overlay, FUSE or an unreadable table: cannot be decided from here. */
    UNKNOWN
  }

  record Verdict(Kind kind, String mountPoint, String source, String fsType, String detail) {}

  private static final Set<String> MEMORY_FS = Set.of("tmpfs", "ramfs");
  private static final int MAX_DEPTH = 8;

  private final Path procMounts;
  private final Path sysBlock;

  SpillMount(Path procMounts, Path sysBlock) {
    this.procMounts = procMounts;
    this.sysBlock = sysBlock;
  }

  static SpillMount system() {
    return new SpillMount(Paths.get("/proc/mounts"), Paths.get("/sys/block"));
  }

  Verdict inspect(String directory) {
    List<String[]> mounts;
    try {
      mounts = readMounts();
    } catch (IOException e) {
      return new Verdict(Kind.UNKNOWN, "?", "?", "?", "cannot read " + procMounts + ": " + e.getMessage());
    }
    String dir = canonical(directory);
    String[] best = null;
    for (String[] m : mounts) {
      if (covers(m[1], dir) && (best == null || m[1].length() >= best[1].length())) {
        best = m; // later entries shadow earlier ones on the same mount point
      }
    }
    if (best == null) {
      return new Verdict(Kind.UNKNOWN, "?", "?", "?", "no mount in " + procMounts + " covers " + dir);
    }
    String source = best[0];
    String mountPoint = best[1];
    String fsType = best[2];
    if (MEMORY_FS.contains(fsType)) {
      return new Verdict(Kind.MEMORY, mountPoint, source, fsType, "memory-backed " + fsType);
    }
    String dm = dmName(source);
    if (dm == null) {
      if (source.startsWith("/dev/")) {
        return new Verdict(Kind.PLAIN, mountPoint, source, fsType, source + " is not a device-mapper device");
      }
      return new Verdict(Kind.UNKNOWN, mountPoint, source, fsType,
          fsType + " from " + source + ": the backing device cannot be seen from here");
    }
    List<String> chain = new ArrayList<>();
    if (cryptBelow(dm, chain, 0)) {
      return new Verdict(Kind.ENCRYPTED, mountPoint, source, fsType, "dm-crypt: " + String.join(" -> ", chain));
    }
    if (!Files.isDirectory(sysBlock.resolve(dm).resolve("dm"))) {
      return new Verdict(Kind.UNKNOWN, mountPoint, source, fsType, sysBlock.resolve(dm) + "/dm is not readable");
    }
    return new Verdict(Kind.PLAIN, mountPoint, source, fsType,
        "device-mapper " + String.join(" -> ", chain) + " has no dm-crypt layer");
  }

  private boolean cryptBelow(String dm, List<String> chain, int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    Path dmDir = sysBlock.resolve(dm).resolve("dm");
    String uuid = readFirstLine(dmDir.resolve("uuid"));
    String name = readFirstLine(dmDir.resolve("name"));
    chain.add(dm + (name.isEmpty() ? "" : "(" + name + ")") + (uuid.isEmpty() ? "" : " " + uuidKind(uuid)));
    if (uuid.startsWith("CRYPT-")) {
      return true;
    }
    Path slaves = sysBlock.resolve(dm).resolve("slaves");
    if (Files.isDirectory(slaves)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(slaves)) {
        for (Path s : ds) {
          String child = s.getFileName().toString();
          if (child.startsWith("dm-") && cryptBelow(child, chain, depth + 1)) {
            return true;
          }
        }
      } catch (IOException e) {
        return false;
      }
    }
    return false;
  }

  private static String uuidKind(String uuid) {
    int dash = uuid.indexOf('-', uuid.indexOf('-') + 1);
    return dash > 0 ? uuid.substring(0, dash) : uuid;
  }

  /** dm-N for /dev/dm-N, /dev/mapper/NAME (looked up by dm/name), else null. */
  private String dmName(String source) {
    if (source.startsWith("/dev/dm-")) {
      return source.substring("/dev/".length());
    }
    if (!source.startsWith("/dev/mapper/")) {
      return null;
    }
    String name = source.substring("/dev/mapper/".length());
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(sysBlock, "dm-*")) {
      for (Path d : ds) {
        if (name.equals(readFirstLine(d.resolve("dm").resolve("name")))) {
          return d.getFileName().toString();
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  private List<String[]> readMounts() throws IOException {
    List<String[]> out = new ArrayList<>();
    for (String line : Files.readAllLines(procMounts, StandardCharsets.UTF_8)) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3) {
        out.add(new String[] {unescape(f[0]), unescape(f[1]), f[2].toLowerCase(Locale.ROOT)});
      }
    }
    return out;
  }

  /** /proc/mounts writes space, tab, newline and backslash as \040, \011, \012, \134. */
  static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static boolean covers(String mountPoint, String dir) {
    if (mountPoint.equals("/")) {
      return dir.startsWith("/");
    }
    return dir.equals(mountPoint) || dir.startsWith(mountPoint + "/");
  }

  /** Resolves symlinks in the part of the path that exists; the rest is kept lexically. */
  private static String canonical(String directory) {
    Path p = Paths.get(directory).toAbsolutePath().normalize();
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return p.toString();
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(p)).normalize().toString();
    } catch (IOException e) {
      return p.toString();
    }
  }

  private static String readFirstLine(Path p) {
    try {
      List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
      return lines.isEmpty() ? "" : lines.get(0).trim();
    } catch (IOException e) {
      return "";
    }
  }
}
