/**
 * AWS KMS key providers: {@code aws-kms} (a symmetric KMS key; {@code GenerateDataKey} on write,
 * {@code Decrypt} on read) and {@code aws-kms-rsa} (an RSA KMS key; the writer wraps locally with
 * the public key, the reader calls {@code Decrypt}). Start at {@link dev.spillway.core.keys.aws.AwsKms};
 * docs/KMS.md explains configuration, IAM policies and failure behaviour.
 */
package dev.spillway.core.keys.aws;
