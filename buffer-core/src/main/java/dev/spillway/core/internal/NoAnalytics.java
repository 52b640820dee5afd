package dev.spillway.core.internal;

/**
 * Turns Chronicle's usage analytics off before any Chronicle class initialises. Without this,
 * Chronicle writes a client-id file into the home directory and tries to reach Google Analytics:
 * an outbound connection no Spillway configuration names. Every class that touches Chronicle calls
 * {@link #ensure()} from its static initialiser, so the switch also holds when a gateway embeds
 * the library without our JVM flags. Internal: not API.
 */
public final class NoAnalytics {
  public static final String PROPERTY = "chronicle.analytics.disable";

  /** Chronicle's start-up banner (a release-notes and e-mail invitation): not for a library to print. */
  public static final String ANNOUNCER_PROPERTY = "chronicle.announcer.disable";

  static {
    System.setProperty(PROPERTY, "true");
    if (System.getProperty(ANNOUNCER_PROPERTY) == null) {
      System.setProperty(ANNOUNCER_PROPERTY, "true");
    }
  }

  private NoAnalytics() {}

  /** Idempotent; the work happens once, in the static initialiser. */
  public static void ensure() {}
}
