package dev.spillway.server;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.KeyRecordVerifier;
import dev.spillway.core.keys.KeysetProtection;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.keys.aws.AwsKms;
import dev.spillway.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The key halves one role holds, built from {@code buffer.spill.keys}: ingest gets only a {@link
 * DataKeyIssuer}, drain only a {@link DataKeyUnwrapper}, both gets both. Fails closed: an ingest
 * process whose configuration names private reader key material refuses to start, so a shared
 * configuration cannot quietly give the network-facing process the right to read the spill.
 * {@link #close()} closes the KMS client, if any.
 */
final class SpillKeys implements AutoCloseable {
  final Optional<DataKeyIssuer> issuer;
  final Optional<DataKeyUnwrapper> unwrapper;
  private final AwsKms kms;

  private SpillKeys(Optional<DataKeyIssuer> issuer, Optional<DataKeyUnwrapper> unwrapper, AwsKms kms) {
    this.issuer = issuer;
    this.unwrapper = unwrapper;
    this.kms = kms;
  }

  static SpillKeys open(ServerConfig.Keys keys, Role role, Function<String, String> env, Consumer<String> warn)
      throws IOException {
    if (role == Role.INGEST && keys.holdsReaderKeyMaterial()) {
      throw new IOException("role ingest must not be given reader key material (buffer.spill.keys."
          + "reader_keyset, reader_keyset_passphrase_file, previous_reader_keysets): the ingest process"
          + " must not be able to read the spill; give it a configuration without them");
    }
    AwsKms kms = null;
    try {
      if (keys.isKms()) {
        kms = client(keys.kms().orElseThrow());
      }
      Optional<DataKeyIssuer> issuer = Optional.empty();
      if (role != Role.DRAIN) {
        issuer = Optional.of(issuer(keys, role, kms, warn));
      }
      Optional<DataKeyUnwrapper> unwrapper = Optional.empty();
      if (role != Role.INGEST) {
        unwrapper = Optional.of(unwrapper(keys, role, kms, env, warn));
      }
      return new SpillKeys(issuer, unwrapper, kms);
    } catch (IOException | RuntimeException e) {
      if (kms != null) {
        kms.close();
      }
      throw e;
    }
  }

  private static AwsKms client(ServerConfig.Kms c) {
    AwsKms.Builder b = AwsKms.builder()
        .connectTimeout(c.connectTimeout())
        .attemptTimeout(c.attemptTimeout())
        .callTimeout(c.callTimeout())
        .maxAttempts(c.maxAttempts());
    c.region().ifPresent(b::region);
    c.endpoint().ifPresent(b::endpointOverride);
    return b.build();
  }

  private static DataKeyIssuer issuer(ServerConfig.Keys keys, Role role, AwsKms kms, Consumer<String> warn)
      throws IOException {
    if (kms == null) {
      Path writer = keys.writerKeyset().orElseThrow(() -> new IOException(
          "buffer.spill.keys.writer_keyset is required for role " + role.configName()));
      return keys.signerKeyset().isPresent()
          ? LocalKeys.issuer(writer, keys.signerKeyset().get())
          : LocalKeys.issuer(writer); // signer.json beside writer.json
    }
    ServerConfig.Kms c = keys.kms().orElseThrow();
    String keyId = c.keyId().or(c::keyArn).orElseThrow(() -> new IOException(
        "buffer.spill.keys.kms.key_id is required for role " + role.configName()));
    boolean rsa = keys.provider().equals("aws-kms-rsa");
    DataKeyIssuer issuer = rsa ? kms.rsaIssuer(keyId) : kms.issuer(keyId);
    if (keys.signerKeyset().isPresent()) {
      return issuer.signedBy(LocalKeys.signer(keys.signerKeyset().get()));
    }
    if (rsa) {
      throw new IOException("buffer.spill.keys.signer_keyset is required with provider aws-kms-rsa: it wraps data"
          + " keys with the KMS key's public half, so without a signature anyone holding that public key could"
          + " write records the drain accepts; give ingest signer.json and drain verifier.json (spillway keys"
          + " init writes both)");
    }
    warn.accept(UNSIGNED_KMS);
    return issuer;
  }

  /** Why an aws-kms deployment without the signing pair rests on IAM alone (docs/THREAT-MODEL.md). */
  static final String UNSIGNED_KMS = "buffer.spill.keys: provider aws-kms without signer_keyset (ingest) and"
      + " verifier_keyset (drain): key records are not signed, so any principal allowed kms:GenerateDataKey or"
      + " kms:Encrypt on the key, with write access to the spill, can write records the drain delivers; set"
      + " both (spillway keys init writes signer.json and verifier.json), or deny those calls to everyone but"
      + " ingest in the key policy (docs/THREAT-MODEL.md)";

  private static DataKeyUnwrapper unwrapper(ServerConfig.Keys keys, Role role, AwsKms kms,
      Function<String, String> env, Consumer<String> warn) throws IOException {
    List<DataKeyUnwrapper> all = new ArrayList<>();
    if (kms == null) {
      Path reader = keys.readerKeyset().orElseThrow(() -> new IOException(
          "buffer.spill.keys.reader_keyset is required for role " + role.configName()));
      KeysetProtection protection =
          KeysetPassphrase.forReader(reader, keys.readerKeysetPassphraseFile(), env, warn);
      all.add(keys.verifierKeyset().isPresent()
          ? LocalKeys.unwrapper(reader, protection, keys.verifierKeyset().get())
          : LocalKeys.unwrapper(reader, protection)); // verifier.json beside reader.json
    } else {
      ServerConfig.Kms c = keys.kms().orElseThrow();
      boolean rsa = keys.provider().equals("aws-kms-rsa");
      String arn = c.keyArn().orElseThrow(() -> new IOException(
          "buffer.spill.keys.kms.key_arn is required for role " + role.configName()));
      Optional<KeyRecordVerifier> verifier = Optional.empty();
      if (keys.verifierKeyset().isPresent()) {
        verifier = Optional.of(LocalKeys.verifier(keys.verifierKeyset().get()));
      } else if (rsa) {
        throw new IOException("buffer.spill.keys.verifier_keyset is required with provider aws-kms-rsa: without"
            + " it the drain cannot tell the writer's key records from ones made with the KMS key's public half;"
            + " give drain verifier.json and ingest signer.json (spillway keys init writes both)");
      } else if (role == Role.DRAIN) {
        warn.accept(UNSIGNED_KMS); // role both warned on the ingest side already
      }
      List<String> arns = new ArrayList<>(List.of(arn));
      arns.addAll(c.previousKeyArns());
      for (String a : arns) {
        DataKeyUnwrapper u = rsa ? kms.rsaUnwrapper(a) : kms.unwrapper(a);
        all.add(verifier.isPresent() ? u.verifiedBy(verifier.get()) : u);
      }
    }
    for (Path previous : keys.previousReaderKeysets()) {
      all.add(local(previous, keys, env, warn));
    }
    return all.size() == 1 ? all.get(0) : DataKeyUnwrapper.anyOf(all);
  }

  private static DataKeyUnwrapper local(Path keyset, ServerConfig.Keys keys, Function<String, String> env,
      Consumer<String> warn) throws IOException {
    KeysetProtection protection =
        KeysetPassphrase.forReader(keyset, keys.readerKeysetPassphraseFile(), env, warn);
    return LocalKeys.unwrapper(keyset, protection);
  }

  @Override
  public void close() {
    if (kms != null) {
      kms.close();
    }
  }
}
