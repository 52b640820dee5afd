package dev.spillway.server.audit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Leakage point 3 in IAM: a writer (the collector, Tempo, Spillway's ingest role) must be able to
 * create data keys and must never decrypt. Works on identity policies (no {@code Principal}) and on
 * key policies, where each principal whose ARN says writer/ingest/collector is checked on its own.
 *
 * <p>Who is a writer: a name hint (file name, Sid, principal ARN containing writer, ingest,
 * collector or tempo; reader or drain makes it a reader), else any policy that allows a data-key
 * or encrypt operation. Conditions on Allow are assumed satisfiable; a Deny counts only when it
 * has no Condition, because a conditional Deny does not always apply.
 */
final class IamPolicyChecks {

  private static final List<String> WRITER_HINTS = List.of("writer", "ingest", "collector", "tempo");
  private static final List<String> READER_HINTS = List.of("reader", "drain");

  private IamPolicyChecks() {}

  /** One statement, parsed. */
  record Statement(ConfigNode node, String sid, boolean allow, List<String> actions,
      List<String> notActions, List<String> principals, boolean conditional) {

    boolean covers(String action) {
      if (!actions.isEmpty()) {
        return actions.stream().anyMatch(p -> matches(p, action));
      }
      return !notActions.isEmpty() && notActions.stream().noneMatch(p -> matches(p, action));
    }

    String label() {
      return sid.isEmpty() ? "statement at line " + node.line() : "statement " + sid;
    }
  }

  static void check(AuditInput in, Findings out) {
    ConfigNode st = in.tree().get("Statement");
    List<ConfigNode> nodes = st.isSequence() ? st.items() : List.of(st);
    List<Statement> statements = new ArrayList<>();
    for (ConfigNode n : nodes) {
      statements.add(parse(n));
    }
    boolean keyPolicy = statements.stream().anyMatch(s -> !s.principals().isEmpty());
    String base = in.path().getFileName() == null ? "" : in.path().getFileName().toString();
    if (!keyPolicy) {
      StringBuilder hints = new StringBuilder(base);
      statements.forEach(s -> hints.append(' ').append(s.sid()));
      Role role = role(hints.toString(), statements);
      if (role == Role.WRITER) {
        checkWriter(in, out, statements, "policy");
      }
      return;
    }
    Map<String, List<Statement>> byPrincipal = new LinkedHashMap<>();
    for (Statement s : statements) {
      for (String p : s.principals()) {
        if (!p.equals("*")) {
          byPrincipal.computeIfAbsent(p, k -> new ArrayList<>()).add(s);
        }
      }
    }
    for (Map.Entry<String, List<Statement>> e : byPrincipal.entrySet()) {
      String hint = e.getKey().toLowerCase(Locale.ROOT);
      if (contains(hint, READER_HINTS) || !contains(hint, WRITER_HINTS)) {
        continue; // administrators, readers and unnamed principals are not judged as writers
      }
      List<Statement> applicable = new ArrayList<>(e.getValue());
      statements.stream().filter(s -> s.principals().contains("*")).forEach(applicable::add);
      checkWriter(in, out, applicable, "principal " + e.getKey());
    }
  }

  private enum Role { WRITER, READER }

  private static Role role(String hints, List<Statement> statements) {
    String h = hints.toLowerCase(Locale.ROOT);
    if (contains(h, READER_HINTS)) {
      return Role.READER;
    }
    if (contains(h, WRITER_HINTS)) {
      return Role.WRITER;
    }
    for (String op : List.of("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Encrypt",
        "kms:GetPublicKey")) {
      if (statements.stream().anyMatch(s -> s.allow() && s.covers(op) && isKmsSpecific(s))) {
        return Role.WRITER;
      }
    }
    return Role.READER;
  }

  /** A statement that names KMS actions (not a bare "*" admin grant). */
  private static boolean isKmsSpecific(Statement s) {
    return s.actions().stream().anyMatch(a -> a.toLowerCase(Locale.ROOT).startsWith("kms:"));
  }

  private static void checkWriter(AuditInput in, Findings out, List<Statement> statements, String who) {
    Statement decryptGrant = allowedBy(statements, "kms:Decrypt");
    Statement unconditionalDeny = null;
    for (Statement s : statements) {
      if (!s.allow() && !s.conditional() && s.covers("kms:Decrypt")) {
        unconditionalDeny = s;
      }
    }
    if (decryptGrant != null && unconditionalDeny == null) {
      out.fail(Rule.P3_IAM_WRITER_DECRYPT, in.name(), decryptGrant.node(),
          "writer " + who + " is allowed kms:Decrypt by " + decryptGrant.label() + " ("
              + describe(decryptGrant) + "): a compromised writer can read every sealed or SSE-KMS object");
    } else if (unconditionalDeny == null) {
      out.warn(Rule.P3_IAM_WRITER_DENY, in.name(), in.tree().get("Statement"),
          "writer " + who + " has no unconditional Deny on kms:Decrypt: another policy attached to the"
              + " same role could still grant it");
    }
    boolean generate = allowedBy(statements, "kms:GenerateDataKey") != null;
    boolean withoutPlaintext = allowedBy(statements, "kms:GenerateDataKeyWithoutPlaintext") != null;
    boolean publicKey = allowedBy(statements, "kms:GetPublicKey") != null;
    if (!generate && !publicKey) {
      out.fail(Rule.P3_IAM_WRITER_GENERATE, in.name(), in.tree().get("Statement"),
          "writer " + who + (withoutPlaintext
              ? " is allowed only kms:GenerateDataKeyWithoutPlaintext, which returns no plaintext key:"
                  + " it cannot encrypt anything with it; allow kms:GenerateDataKey"
              : " is allowed neither kms:GenerateDataKey nor kms:GenerateDataKeyWithoutPlaintext:"
                  + " every envelope-encrypted write fails"));
    }
  }

  /** The Allow statement that grants the action, or null when none does or a Deny removes it. */
  private static Statement allowedBy(List<Statement> statements, String action) {
    Statement grant = null;
    for (Statement s : statements) {
      if (s.covers(action)) {
        if (!s.allow() && !s.conditional()) {
          return null;
        }
        if (s.allow() && grant == null) {
          grant = s;
        }
      }
    }
    return grant;
  }

  private static Statement parse(ConfigNode n) {
    List<String> principals = new ArrayList<>();
    ConfigNode p = n.get("Principal");
    if (p.text() != null) {
      principals.add(p.text());
    } else {
      for (ConfigNode v : p.entries().values()) {
        principals.addAll(v.texts());
      }
    }
    return new Statement(n, n.get("Sid").textOrEmpty(),
        !n.get("Effect").textOrEmpty().equalsIgnoreCase("Deny"),
        n.get("Action").texts(), n.get("NotAction").texts(), principals,
        n.get("Condition").isPresent() && !n.get("Condition").entries().isEmpty());
  }

  private static String describe(Statement s) {
    return s.actions().isEmpty() ? "NotAction " + s.notActions() : "Action " + s.actions();
  }

  /** IAM action patterns: case-insensitive, {@code *} any run, {@code ?} one character. */
  static boolean matches(String pattern, String action) {
    StringBuilder re = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      if (c == '*') {
        re.append(".*");
      } else if (c == '?') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE).matcher(action).matches();
  }

  private static boolean contains(String s, List<String> words) {
    return words.stream().anyMatch(s::contains);
  }
}
