package dev.spillway.server;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
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
        issuer = Optional.of(issuer(keys, role, kms));
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

  private static DataKeyIssuer issuer(ServerConfig.Keys keys, Role role, AwsKms kms) throws IOException {
    if (kms == null) {
      return LocalKeys.issuer(keys.writerKeyset().orElseThrow(() -> new IOException(
          "buffer.spill.keys.writer_keyset is required for role " + role.configName())));
    }
    ServerConfig.Kms c = keys.kms().orElseThrow();
    String keyId = c.keyId().or(c::keyArn).orElseThrow(() -> new IOException(
        "buffer.spill.keys.kms.key_id is required for role " + role.configName()));
    return keys.provider().equals("aws-kms-rsa") ? kms.rsaIssuer(keyId) : kms.issuer(keyId);
  }

  private static DataKeyUnwrapper unwrapper(ServerConfig.Keys keys, Role role, AwsKms kms,
      Function<String, String> env, Consumer<String> warn) throws IOException {
    List<DataKeyUnwrapper> all = new ArrayList<>();
    if (kms == null) {
      all.add(local(keys.readerKeyset().orElseThrow(() -> new IOException(
          "buffer.spill.keys.reader_keyset is required for role " + role.configName())), keys, env, warn));
    } else {
      ServerConfig.Kms c = keys.kms().orElseThrow();
      boolean rsa = keys.provider().equals("aws-kms-rsa");
      String arn = c.keyArn().orElseThrow(() -> new IOException(
          "buffer.spill.keys.kms.key_arn is required for role " + role.configName()));
      all.add(rsa ? kms.rsaUnwrapper(arn) : kms.unwrapper(arn));
      for (String previous : c.previousKeyArns()) {
        all.add(rsa ? kms.rsaUnwrapper(previous) : kms.unwrapper(previous));
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
