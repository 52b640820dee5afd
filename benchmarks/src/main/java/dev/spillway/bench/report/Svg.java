package dev.spillway.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** A horizontal grouped bar chart, log scale: ns/span per implementation, one bar per batch size. */
final class Svg {
  private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759"};
  private static final int LABEL_W = 430;
  private static final int PLOT_W = 520;
  private static final int BAR_H = 9;
  private static final int TOP = 40;

  private Svg() {}

  static String chart(List<String> keys, Map<String, String> labels, Map<String, TreeMap<Integer, Renderer.Score>> scores,
      List<Integer> batches) {
    double min = Double.MAX_VALUE;
    double max = 0;
    for (String k : keys) {
      for (int b : batches) {
        Renderer.Score sc = scores.get(k).get(b);
        if (sc != null) {
          double v = sc.nsPerBatch() / b;
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    double lo = Math.pow(10, Math.floor(Math.log10(Math.max(min, 1e-3))));
    double hi = Math.pow(10, Math.ceil(Math.log10(Math.max(max, lo * 10))));
    int rowH = batches.size() * BAR_H + 10;
    int height = TOP + keys.size() * rowH + 40;
    int width = LABEL_W + PLOT_W + 90;
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n", width, height));
    s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
    s.append("<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">ns per span (log scale, lower is better)</text>\n");
    for (int i = 0; i < batches.size(); i++) {
      int x = LABEL_W + i * 110;
      s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"8\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"17\">batch %d</text>%n",
          x, COLORS[i % COLORS.length], x + 14, batches.get(i)));
    }
    int plotBottom = TOP + keys.size() * rowH;
    for (double t = lo; t <= hi * 1.001; t *= 10) {
      double x = LABEL_W + xOf(t, lo, hi);
      s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>%n", x, TOP - 4, x, plotBottom));
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, plotBottom + 14, Renderer.fmt(t)));
    }
    for (int r = 0; r < keys.size(); r++) {
      String k = keys.get(r);
      int y0 = TOP + r * rowH;
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", LABEL_W - 8,
          y0 + rowH / 2 + 2, esc(labels.getOrDefault(k, k))));
      for (int i = 0; i < batches.size(); i++) {
        Renderer.Score sc = scores.get(k).get(batches.get(i));
        if (sc == null) {
          continue;
        }
        double v = sc.nsPerBatch() / batches.get(i);
        double w = Math.max(1, xOf(v, lo, hi));
        int y = y0 + i * BAR_H;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", LABEL_W, y, w, BAR_H - 1,
            COLORS[i % COLORS.length]));
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\">%s</text>%n", LABEL_W + w + 3, y + BAR_H - 1,
            Renderer.fmt(v)));
      }
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">ns per span</text>%n", LABEL_W + PLOT_W / 2,
        plotBottom + 30));
    s.append("</svg>\n");
    return s.toString();
  }

  private static double xOf(double v, double lo, double hi) {
    return (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * PLOT_W;
  }

  private static String esc(String t) {
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
