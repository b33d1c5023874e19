import { describe, expect, it } from 'vitest';
import { englishOrdinal, englishYear, normalizeEnglishForSpeech } from '../../../src/text/speech/en.js';
import { normalizeVietnameseForSpeech, romanValue, vietnameseNumber } from '../../../src/text/speech/vi.js';
import { speechWeight, toDisplayText, toSpokenText } from '../../../src/text/speech-text.js';

describe('Vietnamese numbers in words', () => {
  it.each([
    [0, 'không'],
    [5, 'năm'],
    [10, 'mười'],
    [11, 'mười một'],
    [15, 'mười lăm'],
    [21, 'hai mươi mốt'],
    [24, 'hai mươi tư'],
    [25, 'hai mươi lăm'],
    [100, 'một trăm'],
    [105, 'một trăm linh năm'],
    [1005, 'một nghìn không trăm linh năm'],
    [1050, 'một nghìn không trăm năm mươi'],
    [1945, 'một nghìn chín trăm bốn mươi lăm'],
    [2024, 'hai nghìn không trăm hai mươi tư'],
    [10_000, 'mười nghìn'],
    [1_000_000, 'một triệu'],
    [1_000_500, 'một triệu năm trăm'],
    [1_000_050, 'một triệu không trăm năm mươi'],
    [2_500_000_000, 'hai tỷ năm trăm triệu'],
  ])('%d → %s', (n, words) => {
    expect(vietnameseNumber(n)).toBe(words);
  });
});

describe('Vietnamese text for speech (what espeak-ng 1.51 gets wrong)', () => {
  const vi = normalizeVietnameseForSpeech;

  it('reads dot thousand separators and decimal commas', () => {
    expect(vi('Giá 1.000.000 đồng.')).toBe('Giá một triệu đồng.');
    expect(vi('Có 10.000 người, 2.500 con.')).toBe('Có mười nghìn người, hai nghìn năm trăm con.');
    expect(vi('3,5 lít và 0,25 lít')).toBe('ba phẩy năm lít và không phẩy hai mươi lăm lít');
    expect(vi('mã số 007')).toBe('mã số không không bảy');
  });

  it('says abbreviations in full', () => {
    expect(vi('Anh ở TP.HCM, chị ở TP. Hà Nội.')).toBe('Anh ở thành phố Hồ Chí Minh, chị ở thành phố Hà Nội.');
    expect(vi('Q.1, P.5, v.v.')).toBe('quận một, phường năm, vân vân');
    expect(vi('TS. Lan và GS. Minh ở UBND xã.')).toBe('tiến sĩ Lan và giáo sư Minh ở ủy ban nhân dân xã.');
  });

  it('reads units, percentages, money and temperatures', () => {
    expect(vi('Đi 5 km, nặng 10kg, cao 3 m.')).toBe('Đi năm ki-lô-mét, nặng mười ki-lô-gam, cao ba mét.');
    expect(vi('tăng 50%, giá 100.000đ, nóng 25°C')).toBe('tăng năm mươi phần trăm, giá một trăm nghìn đồng, nóng hai mươi lăm độ C');
    expect(vi('chạy 60 km/h')).toBe('chạy sáu mươi ki-lô-mét trên giờ');
  });

  it('reads dates and times', () => {
    expect(vi('Ngày 2/9/1945 là ngày Quốc khánh.')).toBe('Ngày hai tháng chín năm một nghìn chín trăm bốn mươi lăm là ngày Quốc khánh.');
    expect(vi('Sinh 19/5/1890.')).toBe('Sinh ngày mười chín tháng năm năm một nghìn tám trăm chín mươi.');
    expect(vi('ngày 30/4 và tháng 8/1945')).toBe('ngày ba mươi tháng tư và tháng tám năm một nghìn chín trăm bốn mươi lăm');
    expect(vi('Tháng 4 năm ấy')).toBe('Tháng tư năm ấy');
    expect(vi('Lúc 7:30, 15h45 và 7h.')).toBe('Lúc bảy giờ ba mươi phút, mười lăm giờ bốn mươi lăm phút và bảy giờ.');
  });

  it('reads ordinals and Roman numerals the Vietnamese way', () => {
    expect(vi('Hùng Vương thứ 6, lần thứ 4, người thứ 1')).toBe('Hùng Vương thứ sáu, lần thứ tư, người thứ nhất');
    expect(vi('thế kỷ XX, chương IV')).toBe('thế kỷ hai mươi, chương bốn');
  });

  it('maps Ð (U+00D0, often typed for Đ) to Đ', () => {
    expect(vi('\u00D0ứa trẻ ở làng Phù \u00D0ổng')).toBe('\u0110ứa trẻ ở làng Phù \u0110ổng');
  });

  it('leaves words alone, and reads ranges and fractions', () => {
    expect(vi('Đứa bé năm ấy mười tuổi.')).toBe('Đứa bé năm ấy mười tuổi.');
    expect(vi('5-10 người ăn 1/2 cái bánh')).toBe('năm đến mười người ăn một phần hai cái bánh');
    expect(vi('nhiệt độ -5 độ')).toBe('nhiệt độ âm năm độ');
  });
});

describe('English text for speech (what espeak-ng 1.51 gets wrong)', () => {
  const en = normalizeEnglishForSpeech;

  it('tells a street from a saint', () => {
    expect(en('He lives on Baker St. in London.')).toBe('He lives on Baker Street in London.');
    expect(en('Then St. Paul spoke.')).toBe('Then Saint Paul spoke.');
    expect(en('He lived on Baker St. The end.')).toBe('He lived on Baker Street. The end.');
  });

  it('reads titles and abbreviations', () => {
    expect(en('No. 5 and #7')).toBe('Number 5 and number 7');
    expect(en('Mt. Everest, Ms. Lee, vs. them, i.e. this, approx. 5, Jan. 5')).toBe(
      'Mount Everest, Miz Lee, versus them, that is this, approximately 5, January 5',
    );
  });

  it('reads units and money', () => {
    expect(en('It is 3.5 km away, 1 km wide and 10 kg.')).toBe('It is 3.5 kilometers away, 1 kilometer wide and 10 kilograms.');
    expect(en('£5, $5.50, €20, $1, $2 million')).toBe('5 pounds, 5 dollars and 50 cents, 20 euros, 1 dollar, 2 million dollars');
    expect(en('5 ft 3 in tall, 25°C')).toBe('5 feet 3 inches tall, 25 degrees Celsius');
  });

  it('reads years, decades, times and Roman numerals as people say them', () => {
    expect(en('In the 1990s and the 1800s and the 60s')).toBe('In the nineteen nineties and the eighteen hundreds and the sixties');
    expect(en('In 1945, since 1066, 1939-1945')).toBe('In nineteen forty-five, since ten sixty-six, nineteen thirty-nine to nineteen forty-five');
    expect(en('at 7:05 and 7:00')).toBe("at seven oh five and seven o'clock");
    expect(en('Henry VIII, World War II, Chapter XII')).toBe('Henry the Eighth, World War 2, Chapter 12');
    expect(en('on 2/9/1945')).toBe('on February ninth, nineteen forty-five');
  });

  it('knows its words', () => {
    expect(englishYear(1905)).toBe('nineteen oh five');
    expect(englishYear(2000)).toBe('two thousand');
    expect(englishYear(2024)).toBe('twenty twenty-four');
    expect(englishOrdinal(21)).toBe('twenty-first');
    expect(englishOrdinal(12)).toBe('twelfth');
    expect(romanValue('XIV')).toBe(14);
    expect(romanValue('IIII')).toBeUndefined();
  });
});

describe('spoken and written forms', () => {
  it('speaks the normalised text and shows the written one', () => {
    const text = '## Chương 1\n\n**Ngày 2/9/1945**, hơn 1.000.000 người.';
    expect(toSpokenText(text, 'vi')).toBe('Chương một Ngày hai tháng chín năm một nghìn chín trăm bốn mươi lăm, hơn một triệu người.');
    expect(toDisplayText(text)).toBe('Chương 1 Ngày 2/9/1945, hơn 1.000.000 người.');
    // Without a language only markdown goes.
    expect(toSpokenText(text)).toBe('Chương 1 Ngày 2/9/1945, hơn 1.000.000 người.');
    // A regional tag uses its language's rules.
    expect(toSpokenText('No. 5', 'en-GB')).toBe('Number 5');
  });

  it('weighs text by how long it takes to say', () => {
    expect(speechWeight('')).toBe(0);
    expect(speechWeight('* * *')).toBe(0);
    expect(speechWeight('một triệu')).toBeGreaterThan(speechWeight('1'));
    expect(speechWeight('a, b.')).toBe(2 + 3 + 5);
  });
});
