package dev.spillway.bench.loadgen;

public final class LoadGen {
  private LoadGen() {}

  public static int run(String[] args) {
    return 2;
  }
}
