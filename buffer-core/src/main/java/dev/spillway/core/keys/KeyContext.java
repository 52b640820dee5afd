package dev.spillway.core.keys;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a data key is bound to: the deployment, the queue, the writer stream and the key epoch.
 * Providers bind a wrapped key to this context (HPKE context info, KMS encryption context, the
 * digest inside an RSA-wrapped key), so a key record copied into another deployment or queue, or
 * relabelled with another epoch, cannot be unwrapped.
 *
 * @param queue the queue name, as configured ({@code spillway:queue} in KMS encryption contexts)
 * @param streamId the writer stream's random 16-byte id
 * @param epoch the key epoch within the stream, counting from 1
 * @param deployment the deployment's name ({@code spillway:deployment} when named)
 */
public record KeyContext(String queue, byte[] streamId, long epoch, DeploymentId deployment) {
  public static final int STREAM_ID_BYTES = 16;
  private static final byte[] LABEL = "spillway-dek-v2".getBytes(StandardCharsets.US_ASCII);

  /** A context of an {@link DeploymentId#UNNAMED unnamed} deployment. */
  public KeyContext(String queue, byte[] streamId, long epoch) {
    this(queue, streamId, epoch, DeploymentId.UNNAMED);
  }

  public KeyContext {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(streamId, "streamId");
    Objects.requireNonNull(deployment, "deployment");
    if (queue.isEmpty()) {
      throw new IllegalArgumentException("queue name must not be empty");
    }
    if (streamId.length != STREAM_ID_BYTES) {
      throw new IllegalArgumentException("stream id must be " + STREAM_ID_BYTES + " bytes");
    }
    if (epoch < 1) {
      throw new IllegalArgumentException("epoch must be >= 1, got " + epoch);
    }
  }

  /**
   * A canonical byte encoding: label {@code spillway-dek-v2}, deployment and queue (each
   * length-prefixed), stream id, epoch.
   */
  public byte[] toBytes() {
    byte[] q = queue.getBytes(StandardCharsets.UTF_8);
    byte[] d = deployment.toBytes();
    ByteArrayOutputStream out = new ByteArrayOutputStream(LABEL.length + 8 + d.length + q.length + 24);
    out.writeBytes(LABEL);
    out.writeBytes(ByteBuffer.allocate(4).putInt(d.length).array());
    out.writeBytes(d);
    out.writeBytes(ByteBuffer.allocate(4).putInt(q.length).array());
    out.writeBytes(q);
    out.writeBytes(streamId);
    out.writeBytes(ByteBuffer.allocate(8).putLong(epoch).array());
    return out.toByteArray();
  }

  /**
   * The KMS encryption context; IAM conditions can pin a writer to {@code spillway:queue} and
   * {@code spillway:deployment} (present only for a named deployment).
   */
  public Map<String, String> toEncryptionContext() {
    Map<String, String> ctx = new LinkedHashMap<>();
    if (deployment.isNamed()) {
      ctx.put("spillway:deployment", deployment.name());
    }
    ctx.put("spillway:queue", queue);
    ctx.put("spillway:stream", HexFormat.of().formatHex(streamId));
    ctx.put("spillway:epoch", Long.toString(epoch));
    return ctx;
  }

  public String streamHex() {
    return HexFormat.of().formatHex(streamId);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyContext k
        && k.queue.equals(queue)
        && java.util.Arrays.equals(k.streamId, streamId)
        && k.epoch == epoch
        && k.deployment.equals(deployment);
  }

  @Override
  public int hashCode() {
    return Objects.hash(queue, java.util.Arrays.hashCode(streamId), epoch, deployment);
  }

  @Override
  public String toString() {
    return "KeyContext[" + deployment + ", " + queue + ", stream " + streamHex() + ", epoch " + epoch + "]";
  }
}
