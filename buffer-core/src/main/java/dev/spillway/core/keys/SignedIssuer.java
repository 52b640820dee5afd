package dev.spillway.core.keys;

import java.util.Objects;

/** See {@link DataKeyIssuer#signedBy}. */
final class SignedIssuer implements DataKeyIssuer {
  private final DataKeyIssuer issuer;
  private final KeyRecordSigner signer;

  SignedIssuer(DataKeyIssuer issuer, KeyRecordSigner signer) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.signer = Objects.requireNonNull(signer, "signer");
  }

  @Override
  public KeyProviderId provider() {
    return issuer.provider();
  }

  @Override
  public IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
    return issuer.issue(context);
  }

  @Override
  public KeyRecordSigner signer() {
    return signer;
  }

  @Override
  public String toString() {
    return issuer + " signed by " + signer;
  }
}
