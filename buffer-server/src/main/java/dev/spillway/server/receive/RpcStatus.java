package dev.spillway.server.receive;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import java.time.Duration;

/** google.rpc.Status bodies, as the OTLP specification requires for every error. */
final class RpcStatus {
  private RpcStatus() {}

  static Status of(Code code, String message) {
    return Status.newBuilder().setCode(code.getNumber()).setMessage(message).build();
  }

  static Status unavailable(String message, Duration retryAfter) {
    RetryInfo info =
        RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(retryAfter.getSeconds()))
            .build();
    return Status.newBuilder()
        .setCode(Code.UNAVAILABLE.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(info))
        .build();
  }
}
