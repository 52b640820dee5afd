/**
 * Not API: the OTLP-to-{@code SpanData} adapters behind {@link
 * dev.spillway.core.export.SpillingSpanExporter}. Anything here may change in any release.
 */
package dev.spillway.core.export.internal;
