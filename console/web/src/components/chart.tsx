import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  SVGRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;

/** A chart over time: its title, an axis tooltip, the legend below; `extra` adds or replaces options. */
export const timeSeries = (title: string, series: unknown[], extra: ChartOption = {}): ChartOption => ({
  title: { text: title, textStyle: { fontSize: 13 } },
  tooltip: { trigger: 'axis' },
  legend: { bottom: 0 },
  xAxis: { type: 'time' },
  yAxis: { type: 'value' },
  series,
  ...extra,
});

/**
 * An ECharts chart in a div, drawn as SVG (crisp in screenshots, inspectable in tests); `option`
 * is applied whole on each change, and the chart follows the div's size.
 */
export function Chart({ option, height = 280, name }: { option: ChartOption; height?: number; name: string }) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts>(undefined);

  useEffect(() => {
    const div = element.current!;
    const instance = echarts.init(div, undefined, { renderer: 'svg' });
    chart.current = instance;
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(div);
    return () => {
      resize.disconnect();
      instance.dispose();
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption({ animation: false, ...option }, { notMerge: true });
  }, [option]);

  return <div ref={element} className="chart" data-chart={name} style={{ height }} />;
}
