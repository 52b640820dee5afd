package dev.spillway.core;

/**
 * One batch handed out by {@link BufferEngine#poll}, from memory or from disk: what the consumer
 * holds until it acknowledges or releases it.
 *
 * <p>The fields are fixed at hand-out, except {@code settled} and {@code sealedTo}, which are
 * guarded by the engine's {@code state} lock. {@link #ack} and {@link #release} go to the engine
 * ({@link Settler}), which takes that lock.
 */
final class BatchDelivery implements Delivery {
  /** Where acks and releases go: the engine. */
  interface Settler {
    void ack(BatchDelivery d);

    void release(BatchDelivery d);
  }

  private final Settler engine;
  final PayloadType type;
  final byte[] payload;
  final boolean fromDisk;
  final long position;
  final long sealedAt;
  boolean settled; // guarded by engine.state
  long sealedTo = -1; // memory origin only: the position of its sealed twin; guarded by engine.state

  BatchDelivery(
      Settler engine, PayloadType type, byte[] payload, boolean fromDisk, long position, long sealedAt) {
    this.engine = engine;
    this.type = type;
    this.payload = payload;
    this.fromDisk = fromDisk;
    this.position = position;
    this.sealedAt = sealedAt;
  }

  BatchDelivery copy() {
    BatchDelivery c = new BatchDelivery(engine, type, payload, fromDisk, position, sealedAt);
    c.sealedTo = sealedTo;
    return c;
  }

  @Override
  public PayloadType payloadType() {
    return type;
  }

  @Override
  public byte[] payload() {
    return payload;
  }

  @Override
  public boolean fromDisk() {
    return fromDisk;
  }

  @Override
  public void ack() {
    engine.ack(this);
  }

  @Override
  public void release() {
    engine.release(this);
  }
}
