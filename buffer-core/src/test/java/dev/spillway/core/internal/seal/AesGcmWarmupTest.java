package dev.spillway.core.internal.seal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AesGcmWarmupTest {

  @Test
  void run_generousBudget_reachesCompiledSpeedForEverySize() {
    AesGcmWarmup.Result r = AesGcmWarmup.run(Duration.ofSeconds(60));

    assertThat(r.skipped()).isFalse();
    assertThat(r.compiled()).as("%s", r).isTrue();
    assertThat(r.detail()).contains(AesGcmWarmup.SMALL + " B: ").contains(AesGcmWarmup.LARGE + " B: ");
    assertThat(r.toString()).contains("reached compiled speed");
  }

  @Test
  void run_noTimeLeft_saysItRanOutInsteadOfClaimingSpeed() {
    AesGcmWarmup.Result r = AesGcmWarmup.run(Duration.ZERO, AesGcmWarmup.FAST_BYTES_PER_SECOND, AesGcmWarmup.SMALL);

    assertThat(r.compiled()).isFalse();
    assertThat(r.detail()).isEqualTo(AesGcmWarmup.SMALL + " B: 0 calls");
    assertThat(r.toString()).contains("did not reach compiled speed");
  }

  @Test
  void run_unreachableSpeed_stopsAtTheBudget() {
    AesGcmWarmup.Result r = AesGcmWarmup.run(Duration.ofMillis(200), Double.MAX_VALUE, AesGcmWarmup.SMALL);

    assertThat(r.compiled()).isFalse();
    assertThat(r.took()).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void runSmallThenLarge_smallNeverFast_leavesTheLargeSizeHalfTheBudget() {
    AesGcmWarmup.Result r = AesGcmWarmup.runSmallThenLarge(Duration.ofMillis(400), Double.MAX_VALUE, Double.MAX_VALUE);

    assertThat(r.compiled()).isFalse();
    assertThat(r.detail()).containsPattern("^" + AesGcmWarmup.SMALL + " B: [1-9][0-9]* calls, ")
        .containsPattern(", " + AesGcmWarmup.LARGE + " B: [1-9][0-9]* calls$");
  }

  @Test
  void run_propertyFalse_skips() {
    String before = System.getProperty(AesGcmWarmup.PROPERTY);
    System.setProperty(AesGcmWarmup.PROPERTY, "false");
    try {
      AesGcmWarmup.Result r = AesGcmWarmup.run(Duration.ofSeconds(60));
      assertThat(r.skipped()).isTrue();
      assertThat(r.toString()).contains("-D" + AesGcmWarmup.PROPERTY + "=false");
    } finally {
      if (before == null) {
        System.clearProperty(AesGcmWarmup.PROPERTY);
      } else {
        System.setProperty(AesGcmWarmup.PROPERTY, before);
      }
    }
  }
}
