package dev.spillway.server.audit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Leakage point 3 in IAM: a writer (Spillway's ingest role, an envelope-encrypting collector) must
 * be able to create data keys and must never decrypt; a reader (a drain, Tempo's queriers and
 * compactor) must be able to decrypt. Works on identity policies (no {@code Principal}) and on key
 * policies, where each principal is judged on the statements naming it.
 *
 * <p>Who is a writer or a reader comes from the user ({@code --writer-role}, {@code --reader-role}:
 * a principal ARN or a policy file), never from words in a file name: the same policy must get the
 * same verdict whatever it is called. A policy whose role is not given is reported as unknown.
 * Tempo is a reader: SSE-KMS uploads (multipart) and reads both need {@code kms:Decrypt}, so the
 * writer rule "deny Decrypt" would break it. Conditions on Allow are assumed satisfiable; a Deny
 * counts only when it has no Condition, because a conditional Deny does not always apply.
 */
final class IamPolicyChecks {

  private IamPolicyChecks() {}

  /** The part a principal or a policy plays, as the user declared it. */
  enum Role { WRITER, READER }

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

  static void check(AuditInput in, Findings out, Audit.Roles roles) {
    ConfigNode st = in.tree().get("Statement");
    List<ConfigNode> nodes = st.isSequence() ? st.items() : List.of(st);
    List<Statement> statements = new ArrayList<>();
    for (ConfigNode n : nodes) {
      statements.add(parse(n));
    }
    boolean keyPolicy = statements.stream().anyMatch(s -> !s.principals().isEmpty());
    if (!keyPolicy) {
      Role role = roles.of(in.path().toString());
      if (role == Role.WRITER) {
        checkWriter(in, out, statements, "policy " + in.name());
      } else if (role == Role.READER) {
        checkReader(in, out, statements, "policy " + in.name());
      } else if (grantsKms(statements)) {
        out.add(Rule.P3_IAM_ROLE, Severity.UNKNOWN, in.name(), st,
            "identity policy granting KMS actions, role not given: writer and reader rules not applied",
            "Run again with --writer-role " + in.name() + " (Spillway ingest) or --reader-role " + in.name()
                + " (Tempo, a drain).");
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
    List<String> unjudged = new ArrayList<>();
    for (Map.Entry<String, List<Statement>> e : byPrincipal.entrySet()) {
      List<Statement> applicable = new ArrayList<>(e.getValue());
      statements.stream().filter(s -> s.principals().contains("*")).forEach(applicable::add);
      Role role = roles.of(e.getKey());
      if (role == Role.WRITER) {
        checkWriter(in, out, applicable, "principal " + e.getKey());
      } else if (role == Role.READER) {
        checkReader(in, out, applicable, "principal " + e.getKey());
      } else {
        unjudged.add(e.getKey());
      }
    }
    if (!unjudged.isEmpty() && unjudged.size() == byPrincipal.size()) {
      out.add(Rule.P3_IAM_ROLE, Severity.UNKNOWN, in.name(), st,
          "key policy: no principal named as writer or reader (" + String.join(", ", unjudged) + ")",
          "Run again with --writer-role ARN for Spillway's ingest role and --reader-role ARN for drains and Tempo.");
    }
  }

  private static boolean grantsKms(List<Statement> statements) {
    return statements.stream().anyMatch(s -> s.allow()
        && s.actions().stream().anyMatch(a -> a.toLowerCase(Locale.ROOT).startsWith("kms:")));
  }

  private static void checkReader(AuditInput in, Findings out, List<Statement> statements, String who) {
    if (allowedBy(statements, "kms:Decrypt") == null) {
      out.fail(Rule.P3_IAM_READER_DECRYPT, in.name(), in.tree().get("Statement"),
          "reader " + who + " is not allowed kms:Decrypt: it cannot open what the writers sealed"
              + " (Tempo: cannot read or upload SSE-KMS blocks)");
    }
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

}
