import { t } from '../lib/i18n';

/** A number with big − and + buttons (no typing). */
export function Stepper(props: { testid: string; value: number; min?: number; max?: number; onChange: (n: number) => void }) {
  const min = props.min ?? 1;
  const max = props.max ?? 999;
  return (
    <div class="stepper">
      <button
        type="button"
        class="btn step"
        aria-label={t('insp.minus')}
        data-testid={props.testid + '-minus'}
        disabled={props.value <= min}
        onClick={() => props.onChange(Math.max(min, props.value - 1))}
      >
        −
      </button>
      <output class="step-value" data-testid={props.testid}>
        {props.value}
      </output>
      <button
        type="button"
        class="btn step"
        aria-label={t('insp.plus')}
        data-testid={props.testid + '-plus'}
        disabled={props.value >= max}
        onClick={() => props.onChange(Math.min(max, props.value + 1))}
      >
        +
      </button>
    </div>
  );
}
