package dev.spillway.core.keys.aws;

/** The KMS operations the providers call, as counted by {@link KmsMetrics}. Immutable. */
public enum KmsOperation {
  /** Symmetric writer: one call per data-key epoch. */
  GENERATE_DATA_KEY("GenerateDataKey"),
  /** Readers of both providers: one call per epoch not already cached. */
  DECRYPT("Decrypt"),
  /** RSA writer: one call per writer process (the public key is kept). */
  GET_PUBLIC_KEY("GetPublicKey");

  private final String apiName;

  KmsOperation(String apiName) {
    this.apiName = apiName;
  }

  /** The operation's name in the KMS API (and in CloudTrail). */
  public String apiName() {
    return apiName;
  }

  static KmsOperation fromApiName(String name) {
    for (KmsOperation op : values()) {
      if (op.apiName.equals(name)) {
        return op;
      }
    }
    return null;
  }
}
