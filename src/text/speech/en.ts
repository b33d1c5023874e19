import { romanValue } from './vi.js';

/**
 * English text made for a speech engine: what espeak-ng 1.51 (voice `en-us`) reads wrongly,
 * written out as words, e.g.
 *
 * | written            | espeak-ng says                       | we send                           |
 * | ------------------ | ------------------------------------ | --------------------------------- |
 * | `Baker St.`        | Baker Saint                          | Baker Street                      |
 * | `No. 5`            | no five                              | number 5                          |
 * | `3.5 km`, `10 kg`  | three point five K M, ten K G        | 3.5 kilometers, 10 kilograms      |
 * | `£5`, `$5.50`      | pound five, dollar five point five … | 5 pounds, 5 dollars and 50 cents  |
 * | `1990s`, `'60s`    | nineteen hundred ninety Z, sixty Z   | nineteen nineties, sixties        |
 * | `in 1945`          | nineteen hundred forty five          | in nineteen forty-five            |
 * | `7:05`, `7:00`     | seven zero five, seven zero zero     | seven oh five, seven o'clock      |
 * | `Henry VIII`       | Henry roman eight                    | Henry the Eighth                  |
 * | `2/9/1945`         | two slash nine slash …               | February 9th, nineteen forty-five |
 *
 * What espeak-ng already reads well (Dr. Smith, Mr., 3rd, 50%, 1,000,000, e.g., etc.) is left alone.
 * Only the spoken copy changes; story.md and the subtitles keep what was written.
 */

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0–9999 in words: 45 → forty-five, 1066 → one thousand sixty-six. */
export function englishNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 9999) throw new RangeError(`englishNumber: ${n}`);
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)]! + (n % 10 ? `-${ONES[n % 10]}` : '');
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${englishNumber(n % 100)}` : ''}`;
  return `${ONES[Math.floor(n / 1000)]} thousand${n % 1000 ? ` ${englishNumber(n % 1000)}` : ''}`;
}

const ORDINAL_WORDS: Record<string, string> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

/** 1 → first, 8 → eighth, 14 → fourteenth, 21 → twenty-first. */
export function englishOrdinal(n: number): string {
  const words = englishNumber(n);
  const match = /^(.*?)([a-z]+)$/.exec(words)!;
  const last = match[2]!;
  const ordinal = ORDINAL_WORDS[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return match[1] + ordinal;
}

/** A year as people say it: 1066 → ten sixty-six, 1905 → nineteen oh five, 1900 → nineteen hundred, 2008 → two thousand eight. */
export function englishYear(year: number): string {
  if (year < 1000 || year > 2099 || year % 1000 === 0 || (year >= 2000 && year < 2010)) return englishNumber(year);
  const century = Math.floor(year / 100);
  const rest = year % 100;
  if (rest === 0) return `${englishNumber(century)} hundred`;
  return `${englishNumber(century)} ${rest < 10 ? `oh ${ONES[rest]}` : englishNumber(rest)}`;
}

/** A decade said as a word: 1 → tens, 6 → sixties. */
function decadeWord(decade: number): string {
  if (decade === 0) return 'hundreds';
  if (decade === 1) return 'tens';
  const word = TENS[decade]!;
  return `${word.slice(0, -1)}ies`;
}

/** An amount as written: 5, 1,000, 3.50. */
const AMOUNT = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;

/** Capitalised words that usually start a sentence (after "Baker St." they tell that the sentence ended). */
const SENTENCE_STARTERS = new Set([
  'The', 'A', 'An', 'He', 'She', 'It', 'They', 'We', 'I', 'You', 'But', 'And', 'Then', 'There', 'This', 'That', 'His',
  'Her', 'Their', 'In', 'On', 'At', 'When', 'As', 'So', 'Now', 'One', 'Everyone', 'Nobody', 'No', 'Yes',
]);

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTH_ABBREVIATIONS: Record<string, string> = {
  Jan: 'January', Feb: 'February', Mar: 'March', Apr: 'April', Jun: 'June', Jul: 'July', Aug: 'August',
  Sep: 'September', Sept: 'September', Oct: 'October', Nov: 'November', Dec: 'December',
};

/** Units after a number: [written, singular, plural]. */
const UNITS: [string, string, string][] = [
  ['km/h', 'kilometer per hour', 'kilometers per hour'],
  ['mph', 'mile per hour', 'miles per hour'],
  ['km²', 'square kilometer', 'square kilometers'],
  ['m²', 'square meter', 'square meters'],
  ['km', 'kilometer', 'kilometers'],
  ['cm', 'centimeter', 'centimeters'],
  ['mm', 'millimeter', 'millimeters'],
  ['kg', 'kilogram', 'kilograms'],
  ['mg', 'milligram', 'milligrams'],
  ['ml', 'milliliter', 'milliliters'],
  ['lbs', 'pound', 'pounds'],
  ['lb', 'pound', 'pounds'],
  ['oz', 'ounce', 'ounces'],
  ['ft', 'foot', 'feet'],
  ['mi', 'mile', 'miles'],
  ['hrs', 'hour', 'hours'],
  ['hr', 'hour', 'hours'],
  ['min', 'minute', 'minutes'],
  ['°C', 'degree Celsius', 'degrees Celsius'],
  ['°F', 'degree Fahrenheit', 'degrees Fahrenheit'],
  ['m', 'meter', 'meters'],
  ['g', 'gram', 'grams'],
  ['l', 'liter', 'liters'],
];

/** Titles and street words: written form → spoken form (followed by a capitalised word for titles). */
const TITLES: [string, string][] = [
  ['Mt', 'Mount'], ['Ft', 'Fort'], ['Prof', 'Professor'], ['Gen', 'General'], ['Capt', 'Captain'], ['Lt', 'Lieutenant'],
  ['Col', 'Colonel'], ['Sgt', 'Sergeant'], ['Rev', 'Reverend'], ['Gov', 'Governor'], ['Pres', 'President'], ['Ms', 'Miz'],
];

/** Words after which a Roman numeral is a plain number (Chapter XII → Chapter 12). */
const CARDINAL_BEFORE = /^(?:chapter|part|book|act|scene|volume|vol\.|war|section|article|phase|round|level|episode|class|type|canto|psalm|stage|grade)$/i;
/** Words before a year: in 1945, since 1066, (the) summer of 1969. */
const YEAR_BEFORE = String.raw`(?:[Ii]n|[Oo]f|[Ss]ince|[Uu]ntil|[Tt]ill|[Bb]y|[Ff]rom|[Tt]o|[Yy]ear|[Aa]round|[Cc]irca|[Dd]uring|[Bb]efore|[Aa]fter|[Ee]arly|[Ll]ate|[Mm]id|[Ss]ummer|[Ww]inter|[Ss]pring|[Aa]utumn|[Ff]all|${MONTHS.join('|')})`;

const money = (amount: string, unit: [string, string], cents?: [string, string]) => {
  const [whole, fraction] = amount.replace(/,/g, '').split('.');
  const main = `${amount.split('.')[0]} ${whole === '1' ? unit[0] : unit[1]}`;
  if (!fraction || /^0+$/.test(fraction) || !cents) return fraction && !cents ? `${amount} ${unit[1]}` : main;
  const c = Number(fraction.padEnd(2, '0').slice(0, 2));
  return `${main} and ${c} ${c === 1 ? cents[0] : cents[1]}`;
};

/**
 * English text for a speech engine. Expects text without markdown (see `toSpokenText`).
 */
export function normalizeEnglishForSpeech(input: string): string {
  let text = input;

  // Street or Saint: "St. Paul" is a saint; "Baker St." (after a capitalised word or a number) a street.
  text = text.replace(/\bSt\./g, (_m, offset: number, whole: string) => {
    const next = /^\s+(\p{Lu}[\p{L}'’-]*)/u.exec(whole.slice(offset + 3))?.[1];
    if (next && !SENTENCE_STARTERS.has(next)) return 'Saint';
    const afterName = /(?:\p{Lu}[\p{L}'’-]*|\d+(?:st|nd|rd|th)?)\s$/u.test(whole.slice(Math.max(0, offset - 40), offset));
    if (!afterName) return 'Saint';
    // A street at the end of a sentence keeps the full stop.
    return next || whole.slice(offset + 3).trim() === '' ? 'Street.' : 'Street';
  });
  text = text.replace(/(?<=\b(?:\p{Lu}[\p{L}'-]*|\d+(?:st|nd|rd|th)?) )(Ave|Rd|Blvd|Ln)\.(?=\s|$)/gu, (_m, word: string) =>
    ({ Ave: 'Avenue', Rd: 'Road', Blvd: 'Boulevard', Ln: 'Lane' })[word as 'Ave']!,
  );
  for (const [written, spoken] of TITLES) {
    text = text.replace(new RegExp(`\\b${written}\\.(?= \\p{Lu})`, 'gu'), spoken);
  }
  text = text.replace(/\b(?:Jr)\./g, 'Junior').replace(/\b(?:Sr)\.(?=\s|,|$)/g, 'Senior');
  text = text.replace(/\bvs\.?(?=\s)/g, 'versus');
  text = text.replace(/\bi\.e\./g, 'that is');
  text = text.replace(/\bapprox\.(?=\s)/g, 'approximately');
  // No. 5, no. 12, #5 → number 5.
  text = text.replace(/\b([Nn])o(s?)\.\s?(?=\d)/g, (_m, n: string, s: string) => `${n}umber${s} `);
  text = text.replace(/(^|[\s(])#(?=\d)/g, '$1number ');
  // Month abbreviations before a day: Jan. 5 → January 5.
  text = text.replace(/\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.(?= \d)/g, (_m, month: string) => MONTH_ABBREVIATIONS[month]!);

  // Dates: 2/9/1945 (month first, as in the US, unless the first number cannot be a month).
  text = text.replace(/\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g, (match, a: string, b: string, y: string) => {
    let [month, day] = [Number(a), Number(b)];
    if (month > 12) [month, day] = [day, month];
    if (month < 1 || month > 12 || day < 1 || day > 31) return match;
    return `${MONTHS[month - 1]} ${englishOrdinal(day)}, ${englishYear(Number(y))}`;
  });
  // A month name and a day with a year: September 2, 1945 → September second, nineteen forty-five.
  text = text.replace(new RegExp(`\\b(${MONTHS.join('|')}) (\\d{1,2})(?:st|nd|rd|th)?, (\\d{4})\\b`, 'g'), (match, month: string, d: string, y: string) =>
    Number(d) >= 1 && Number(d) <= 31 ? `${month} ${englishOrdinal(Number(d))}, ${englishYear(Number(y))}` : match,
  );

  // Decades and centuries: 1990s → nineteen nineties, 1800s → eighteen hundreds, '60s / 60s → sixties.
  text = text.replace(/\b(1[0-9]|20)(\d)0'?s\b/g, (_m, century: string, decade: string) => {
    if (century === '20' && decade === '0') return 'two thousands';
    return `${englishNumber(Number(century))} ${decadeWord(Number(decade))}`;
  });
  text = text.replace(/(^|[\s(])['’]?([2-9])0['’]?s\b/g, (_m, lead: string, decade: string) => `${lead}${decadeWord(Number(decade))}`);
  // Year ranges: 1939-1945 → nineteen thirty-nine to nineteen forty-five.
  text = text.replace(/\b(1\d\d\d|20[1-9]\d) ?[-–] ?(1\d\d\d|20[1-9]\d)\b/g, (_m, a: string, b: string) => `${englishYear(Number(a))} to ${englishYear(Number(b))}`);
  // Years after words that announce them: in 1945 → in nineteen forty-five; 1066 AD, 500 BC.
  text = text.replace(new RegExp(`\\b(${YEAR_BEFORE}(?: the year)? )(1\\d\\d\\d|20[1-9]\\d)\\b(?![,.]\\d)`, 'g'), (_m, lead: string, y: string) => `${lead}${englishYear(Number(y))}`);
  text = text.replace(/\b(1\d\d\d|20[1-9]\d)(?= ?(?:AD|BC|BCE|CE)\b)/g, (_m, y: string) => englishYear(Number(y)));

  // Clock times: 7:05 → seven oh five, 7:00 → seven o'clock.
  text = text.replace(/\b(\d{1,2}):(\d{2})\b(?!:)/g, (match, h: string, m: string) => {
    const [hour, minute] = [Number(h), Number(m)];
    if (hour > 24 || minute > 59) return match;
    if (minute === 0) return `${englishNumber(hour)} o'clock`;
    return `${englishNumber(hour)} ${minute < 10 ? `oh ${ONES[minute]}` : englishNumber(minute)}`;
  });

  // Money: £5 → 5 pounds, $5.50 → 5 dollars and 50 cents, €20 → 20 euros, $2 million → 2 million dollars.
  const currencies: Record<string, { unit: [string, string]; cents?: [string, string] }> = {
    '£': { unit: ['pound', 'pounds'], cents: ['penny', 'pence'] },
    $: { unit: ['dollar', 'dollars'], cents: ['cent', 'cents'] },
    '€': { unit: ['euro', 'euros'], cents: ['cent', 'cents'] },
    '¥': { unit: ['yen', 'yen'] },
  };
  const scales: Record<string, string> = { k: 'thousand', m: 'million', bn: 'billion' };
  text = text.replace(
    new RegExp(`([£$€¥])\\s?(${AMOUNT})(?: (thousand|million|billion|trillion)\\b|(k|m|bn)\\b)?`, 'g'),
    (_m, symbol: string, amount: string, scale?: string, short?: string) => {
      const currency = currencies[symbol]!;
      if (scale || short) return `${amount} ${scale ?? scales[short!]} ${currency.unit[1]}`;
      return money(amount, currency.unit, currency.cents);
    },
  );

  // Units after a number: 3.5 km → 3.5 kilometers, 1 kg → 1 kilogram, 5 ft 3 in → 5 feet 3 inches.
  text = text.replace(/\b(\d+) ?ft (\d+) ?in\b\.?/g, (_m, ft: string, inch: string) => `${ft} ${ft === '1' ? 'foot' : 'feet'} ${inch} ${inch === '1' ? 'inch' : 'inches'}`);
  const unitPattern = new RegExp(
    `\\b(${AMOUNT}) ?(${UNITS.map(([u]) => u.replace(/[/]/g, '\\/')).join('|')})(?![\\p{L}\\p{N}²])\\.?`,
    'gu',
  );
  const unitWords = new Map(UNITS.map(([u, one, many]) => [u, [one, many] as const]));
  text = text.replace(unitPattern, (match, n: string, unit: string) => {
    const [one, many] = unitWords.get(unit)!;
    // "in." and "m." at a sentence end keep their full stop as punctuation.
    const stop = match.endsWith('.') ? '.' : '';
    return `${n} ${n === '1' ? one : many}${stop}`;
  });

  // Roman numerals: Henry VIII → Henry the Eighth; Chapter XII → Chapter 12; World War II → World War 2.
  text = text.replace(/\b(\p{Lu}[\p{L}.]*) ([IVXLC]{2,}|[VX])\b(?![.'’]?\p{L})/gu, (match, word: string, numeral: string) => {
    const value = romanValue(numeral);
    if (value === undefined || value > 60) return match;
    return CARDINAL_BEFORE.test(word) ? `${word} ${value}` : `${word} the ${capitalize(englishOrdinal(value))}`;
  });

  // Ranges and fractions: 5-10 people → 5 to 10 people; 1/2 → one half, 3/4 → three quarters.
  text = text.replace(/\b(\d+(?:\.\d+)?) ?[-–] ?(\d+(?:\.\d+)?)\b(?!-)/g, '$1 to $2');
  text = text.replace(/\b([1-9])\/([2-9]|10)\b/g, (_m, a: string, b: string) => {
    const [num, den] = [Number(a), Number(b)];
    const name = den === 2 ? ['half', 'halves'] : den === 4 ? ['quarter', 'quarters'] : [englishOrdinal(den), `${englishOrdinal(den)}s`];
    return `${ONES[num]} ${num === 1 ? name[0] : name[1]}`;
  });
  text = text.replace(/\s&\s/g, ' and ');
  return text;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
